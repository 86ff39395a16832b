// What a job's owner reads (failureReason, the system's log lines) speaks of the job's own files, never of the
// worker's directories: `MLproject: …`, not `/var/lib/alidade/jobs/<id>/workflow/MLproject: …`.

/**
 * `text` with every occurrence of a root directory taken out: `<root>/x` becomes `x` and the root itself `.`.
 * Roots are tried longest first, so give the workflow directory beside the job directory that holds it.
 */
export function withoutServerPaths(text: string, roots: readonly string[]): string {
  let out = text;
  for (const root of [...roots].filter((r) => r.length > 1).sort((a, b) => b.length - a.length)) {
    const base = root.replace(/\/+$/, '');
    out = out.split(`${base}/`).join('');
    // The root itself, when not followed by more of a longer name (`/jobs/1` must not eat `/jobs/12`).
    out = out.replace(new RegExp(`${escapeRegExp(base)}(?![\\w.-])`, 'g'), '.');
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
