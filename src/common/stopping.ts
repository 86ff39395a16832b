/**
 * While an app stops, closing Redis rejects the commands still in flight (Bull's lock renewals, a job's last log
 * flush after its bounded wait ran out): those rejections are expected and must not end the process before what it
 * started is stopped. Installed once per process, by whoever closes an app (src/main.ts, the test harness).
 */
let installed = false;

export function tolerateRejectionsWhileStopping(note: (reason: unknown) => void): void {
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', note);
}
