import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Where the uid locks of every worker process on this machine live (so two workers never share a uid). */
export const UID_LOCK_DIR = '/run/alidade/job-uids';

/**
 * Hands out job uids from a range, one lock file per uid (created with O_EXCL, holding the worker's pid). A lock
 * whose pid is gone (a crashed worker, whose jobs died with it: --die-with-parent, the watchdog) is taken over.
 */
export class UidPool {
  constructor(
    private readonly first: number,
    private readonly last: number,
    private readonly dir = UID_LOCK_DIR,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  acquire(): number {
    const size = this.last - this.first + 1;
    const start = randomInt(0, size);
    for (let i = 0; i < size; i++) {
      const uid = this.first + ((start + i) % size);
      if (this.tryLock(uid)) return uid;
    }
    throw new Error(`no free job uid in JOB_UID_RANGE ${this.first}-${this.last}`);
  }

  release(uid: number): void {
    try {
      unlinkSync(this.file(uid));
    } catch {
      // already gone
    }
  }

  private file(uid: number): string {
    return join(this.dir, String(uid));
  }

  private tryLock(uid: number, retried = false): boolean {
    try {
      const fd = openSync(this.file(uid), 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || retried) return false;
      if (!this.holderGone(uid)) return false;
      // Its worker died; in uid mode a job's setsid child may have outlived it. Nothing of the old job may share the
      // uid with the next one.
      killAllOf(uid);
      this.release(uid);
      return this.tryLock(uid, true);
    }
  }

  private holderGone(uid: number): boolean {
    let pid: number;
    try {
      pid = Number(readFileSync(this.file(uid), 'utf8'));
    } catch {
      return false;
    }
    if (!Number.isInteger(pid) || pid <= 0) return false; // being written right now
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
}

/** SIGKILL to every process of the uid (kill -1 as that uid reaches exactly those). */
function killAllOf(uid: number): void {
  try {
    execFileSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', 'kill', '-KILL', '-1'], { stdio: 'ignore', env: { PATH: '/usr/bin:/bin' } });
  } catch {
    // no process left (kill exits 1), or setpriv missing: nothing to do
  }
}
