import { lstatSync, realpathSync } from 'node:fs';

/** /usr read-only, and /bin, /sbin, /lib* and /etc as they are here (directories bound read-only, or symlinks). */
export function systemBinds(): string[] {
  const a = ['--ro-bind', '/usr', '/usr'];
  for (const top of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc']) {
    let st;
    try {
      st = lstatSync(top);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) a.push('--symlink', realpathSync(top).replace(/^\//, ''), top);
    else if (st.isDirectory()) a.push('--ro-bind', top, top);
  }
  return a;
}
