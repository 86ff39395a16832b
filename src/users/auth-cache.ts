import { Injectable } from '@nestjs/common';

/** How long a token check is reused. Other API processes see a logout, revocation or deactivation within this time. */
export const AUTH_CACHE_MS = 1000;
const MAX_ENTRIES = 10_000;

/**
 * A short-lived cache of token checks (the user and the session or access-token row behind a bearer token), so an
 * authenticated request does not cost a database round trip of its own (measured: half of a `GET /api/v1/jobs/{id}`'s
 * cost). This process evicts entries at once on logout, token revocation, deactivation and password change. Lives in
 * users/ because users and auth both evict from it and auth already depends on users.
 */
@Injectable()
export class AuthCache {
  private readonly entries = new Map<string, { userId: number; value: unknown; expires: number }>();

  get<T>(key: string): T | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expires <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value as T;
  }

  set(key: string, userId: number, value: unknown): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { userId, value, expires: Date.now() + AUTH_CACHE_MS });
  }

  evict(key: string): void {
    this.entries.delete(key);
  }

  evictUser(userId: number): void {
    for (const [key, entry] of this.entries) if (entry.userId === userId) this.entries.delete(key);
  }
}
