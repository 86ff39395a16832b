/**
 * Serves the dashboard (ui/, built into dist/ui by `npm run build`) at /ui: hashed assets under /ui/assets
 * (precompressed br/gz by Accept-Encoding, cached for a year, a missing asset is a plain 404, never the index), and
 * index.html for /ui/ and every path below it (the app routes in the browser), with no-cache, the CSP and the other
 * security headers. Mounted on /ui only, so no API request ever touches the disk. The worker role serves nothing
 * (it has no HTTP). Owns nothing else: no API route, no auth (the page is public; every API call it makes is not).
 */
import { Logger } from '@nestjs/common';
import type { Express, NextFunction, Request, Response } from 'express';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';

export const DASHBOARD_CSP =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** dist/ui beside the compiled app (dist/app/dashboard.js → dist/ui); from the sources (tests) the built dist/ui. */
export function defaultDashboardDir(): string {
  const beside = join(__dirname, '..', 'ui');
  return existsSync(join(__dirname, '..', 'main.js')) ? beside : join(__dirname, '..', '..', 'dist', 'ui');
}

function securityHeaders(res: Response): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
}

export interface DashboardOptions {
  dir?: string;
  /** AUTH_DISABLED: the page says so in a meta tag, so the app skips the login page without a failing probe. */
  authDisabled?: boolean;
}

export function mountDashboard(server: Express, options: DashboardOptions = {}): void {
  const dir = options.dir ?? defaultDashboardDir();
  const assets = join(dir, 'assets');
  const indexFile = join(dir, 'index.html');
  let index: Buffer | null = null;
  let indexMtime = 0;
  let warned = false;
  let preload = '';
  // Re-read when the file changes (a rebuild under a running server), so the page never names assets that are gone.
  const readIndex = (): Buffer | null => {
    let mtime: number;
    try {
      mtime = statSync(indexFile).mtimeMs;
    } catch {
      if (!warned) new Logger('Dashboard').warn(`dashboard not built (${indexFile} missing): run npm run build`);
      warned = true;
      index = null;
      return null;
    }
    if (index && mtime === indexMtime) return index;
    const html = readFileSync(indexFile, 'utf8');
    index = Buffer.from(options.authDisabled ? html.replace('<head>', '<head>\n    <meta name="alidade-auth" content="disabled" />') : html);
    indexMtime = mtime;
    preload = preloadHeader(html);
    return index;
  };
  readIndex();

  server.use('/ui/assets', (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    let rel = '';
    try {
      rel = normalize(decodeURIComponent(req.path)).replace(/^([/\\])+/, '');
    } catch {
      /* bad escape: not an asset */
    }
    const file = join(assets, rel);
    securityHeaders(res);
    if (!rel || rel.startsWith('..') || !file.startsWith(assets + sep) || !isFile(file)) {
      res.status(404).type('text/plain').send('Not Found');
      return;
    }
    const ext = file.slice(file.lastIndexOf('.'));
    const accept = String(req.headers['accept-encoding'] ?? '');
    res.setHeader('Vary', 'Accept-Encoding');
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.setHeader('Content-Type', TYPES[ext] ?? 'application/octet-stream');
    for (const [enc, suffix] of [['br', '.br'], ['gzip', '.gz']] as const) {
      if (new RegExp(`\\b${enc}\\b`).test(accept) && isFile(file + suffix)) {
        res.setHeader('Content-Encoding', enc);
        res.sendFile(file + suffix);
        return;
      }
    }
    res.sendFile(file);
  });

  const sendIndex = (_req: Request, res: Response) => {
    securityHeaders(res);
    res.setHeader('Cache-Control', 'no-cache');
    const body = readIndex();
    if (!body) {
      res.status(503).type('text/plain').send('dashboard not built: run npm run build');
      return;
    }
    // The stylesheet and scripts named in <head>, announced with the headers: the browser fetches them before it
    // has parsed the page (first contentful paint waits for the stylesheet).
    if (preload) res.setHeader('Link', preload);
    res.type('html').send(body);
  };
  server.get('/ui', (req: Request, res: Response) => {
    // Express matches /ui/ here too (non-strict routing): only the bare /ui redirects.
    if (req.path !== '/ui') return sendIndex(req, res);
    const q = req.originalUrl.indexOf('?');
    res.redirect(301, `/ui/${q >= 0 ? req.originalUrl.slice(q) : ''}`);
  });
  // Two routes, not an array: configureApp's route table reads each route's path as a string.
  server.get('/ui/', sendIndex);
  server.get('/ui/{*path}', sendIndex);
}

/** `Link` preloads for the built index's stylesheets and module scripts, or '' when it names none. */
export function preloadHeader(html: string): string {
  const links: string[] = [];
  for (const m of html.matchAll(/<link rel="stylesheet"[^>]*href="(\/ui\/assets\/[^"]+)"/g)) links.push(`<${m[1]}>; rel=preload; as=style; crossorigin`);
  for (const m of html.matchAll(/<script type="module"[^>]*src="(\/ui\/assets\/[^"]+)"/g)) links.push(`<${m[1]}>; rel=modulepreload; crossorigin`);
  for (const m of html.matchAll(/<link rel="modulepreload"[^>]*href="(\/ui\/assets\/[^"]+)"/g)) links.push(`<${m[1]}>; rel=modulepreload; crossorigin`);
  return links.join(', ');
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
