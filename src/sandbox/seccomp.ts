// A classic-BPF seccomp program for bubblewrap's --seccomp: a job may not create user namespaces (the kernel surface
// that most container escapes start from). Everything else is left to the uid, the namespaces and the limits.

const LD_ABS_W = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;
const ALLOW = 0x7fff0000;
const errno = (n: number) => 0x00050000 | n;
const EPERM = 1;
const ENOSYS = 38;
const CLONE_NEWUSER = 0x10000000;
const X32_BIT = 0x40000000;

/** Syscall numbers per architecture: unshare, clone, clone3 (clone3's flags are in memory, out of BPF's reach). */
const ARCHES: Record<string, { audit: number; unshare: number; clone: number; clone3: number; x32?: boolean }> = {
  x64: { audit: 0xc000003e, unshare: 272, clone: 56, clone3: 435, x32: true },
  arm64: { audit: 0xc00000b7, unshare: 97, clone: 220, clone3: 435 },
};

/**
 * The filter as bytes (struct sock_filter[]), or null on an architecture without a table (the sandbox then runs
 * without it and says so). Another architecture's syscalls (a 32-bit ABI) are refused outright.
 */
export function seccompFilter(arch: string = process.arch): Buffer | null {
  const a = ARCHES[arch];
  if (!a) return null;
  const prog: Array<[number, number, number, number]> = [];
  const op = (code: number, jt: number, jf: number, k: number) => prog.push([code, jt, jf, k >>> 0]);
  op(LD_ABS_W, 0, 0, 4); // arch
  op(JEQ_K, 1, 0, a.audit);
  op(RET_K, 0, 0, errno(EPERM));
  op(LD_ABS_W, 0, 0, 0); // nr
  if (a.x32) {
    op(JGE_K, 0, 1, X32_BIT);
    op(RET_K, 0, 0, errno(EPERM));
  }
  op(JEQ_K, 0, 1, a.clone3);
  op(RET_K, 0, 0, errno(ENOSYS)); // libc falls back to clone(), whose flags we can see
  op(JEQ_K, 1, 0, a.unshare);
  op(JEQ_K, 0, 3, a.clone);
  op(LD_ABS_W, 0, 0, 16); // args[0], low 32 bits: the flags of both unshare and clone
  op(JSET_K, 0, 1, CLONE_NEWUSER);
  op(RET_K, 0, 0, errno(EPERM));
  op(RET_K, 0, 0, ALLOW);
  const out = Buffer.alloc(prog.length * 8);
  prog.forEach(([code, jt, jf, k], i) => {
    out.writeUInt16LE(code, i * 8);
    out.writeUInt8(jt, i * 8 + 2);
    out.writeUInt8(jf, i * 8 + 3);
    out.writeUInt32LE(k, i * 8 + 4);
  });
  return out;
}
