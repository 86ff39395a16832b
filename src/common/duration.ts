const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `30d`, `12h`, `90m`, `45s` or bare seconds → seconds; null when malformed. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]) * UNIT_SECONDS[m[2] || 's'];
  return Number.isSafeInteger(n) ? n : null;
}

/** Seconds → the shortest exact `Nd`/`Nh`/`Nm`/`Ns`. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
