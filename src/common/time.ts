/** v1 times: ISO 8601 UTC with Z. */
export function toIso(d: Date | null | undefined): string | null {
  return d ? d.toISOString() : null;
}

/** Dioptra times: naive UTC `YYYY-MM-DDTHH:MM:SS.ffffff`, the fraction omitted when zero (reference §1.2). */
export function toDioptraTime(d: Date | null | undefined): string | null {
  if (!d) return null;
  const iso = d.toISOString(); // 2020-08-17T20:00:00.123Z
  const ms = d.getUTCMilliseconds();
  const base = iso.slice(0, 19);
  return ms === 0 ? base : `${base}.${String(ms).padStart(3, '0')}000`;
}
