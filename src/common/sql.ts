import { QueryFailedError } from 'typeorm';

/** Escapes LIKE/ILIKE wildcards so user input matches literally (used with the default '\' escape). */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Ids are int4: a larger number cannot name a row (and would make Postgres raise instead of finding nothing). */
export const MAX_ROW_ID = 2147483647;
export const isRowId = (id: number): boolean => Number.isSafeInteger(id) && id >= 1 && id <= MAX_ROW_ID;

/** Postgres text cannot hold NUL: such a value names no row (querying it would raise). */
export const isStorableText = (text: string): boolean => !text.includes('\u0000');

export function isUniqueViolation(e: unknown): boolean {
  return e instanceof QueryFailedError && (e.driverError as { code?: string } | undefined)?.code === '23505';
}
