// A process's resident memory, for the benches that report it (bench/run.mjs, bench/memory.mjs).
import { readFileSync } from 'node:fs';

/** RSS of `pid` in MB (NaN once the process is gone). */
export function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Samples the RSS of `pid` every `everyMs` while `fn` runs; returns fn's result and the peak. */
export async function withRssPeak(pid, fn, everyMs = 50) {
  let peak = rssMb(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), everyMs);
  try {
    const result = await fn();
    return { result, peak: Math.max(peak, rssMb(pid)) };
  } finally {
    clearInterval(timer);
  }
}
