import { DomainError } from './domain-error';

/**
 * How one API face (Dioptra, MLflow, ...) writes an error reply. The filter knows no face: each face module exports
 * its own, the composition root (ApiModule) lists them under ERROR_FACES, and paths no face claims get the v1 body.
 */
export interface ErrorFace {
  /** True for the request paths this face serves. */
  matches(path: string): boolean;
  /** `request` lets a face word a generic failure (VALIDATION_FAILED from the input guards) as the form it hit. */
  render(error: DomainError, request: { method: string; path: string }): { status: number; body: Record<string, unknown> };
}

export const ERROR_FACES = Symbol('ERROR_FACES');
