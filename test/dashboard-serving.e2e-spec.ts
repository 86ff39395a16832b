// How src/app/dashboard.ts serves the built dashboard, on a bare Express app over temporary directories: the 503 of
// an unbuilt dashboard, precompressed assets by Accept-Encoding, plain 404s for missing assets, the index's headers
// for every path under /ui, a rebuild picked up without a restart, and the AUTH_DISABLED marker.
import express from 'express';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { gzipSync } from 'node:zlib';
import { DASHBOARD_CSP, mountDashboard } from '../src/app/dashboard';

describe('dashboard serving', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'alidade-dash-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const app = (authDisabled = false) => {
    const server = express();
    mountDashboard(server, { dir, authDisabled });
    server.use((_req, res) => res.status(404).json({ message: 'not found' }));
    return server;
  };

  it('answers 503 with what to do while the dashboard is not built, and serves it once built (no restart)', async () => {
    const server = app();
    const res = await request(server).get('/ui/jobs');
    expect(res.status).toBe(503);
    expect(res.text).toBe('dashboard not built: run npm run build');
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<html><head></head><body>v1</body></html>');
    const ok = await request(server).get('/ui/jobs/abc/logs?line=3');
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('v1');
    expect(ok.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(ok.headers['cache-control']).toBe('no-cache');
    expect(ok.headers['x-content-type-options']).toBe('nosniff');
    expect(ok.headers['referrer-policy']).toBe('no-referrer');
    // A rebuild under the running server: the new index, not a cached one naming deleted assets.
    writeFileSync(join(dir, 'index.html'), '<html><head></head><body>v2</body></html>');
    utimesSync(join(dir, 'index.html'), new Date(), new Date(Date.now() + 5000));
    expect((await request(server).get('/ui/')).text).toContain('v2');
  });

  it("announces the index's stylesheet and module scripts in a Link header (preloads, as the tags' CORS mode)", async () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(
      join(dir, 'index.html'),
      '<html><head><script type="module" crossorigin src="/ui/assets/index-a1.js"></script><link rel="modulepreload" crossorigin href="/ui/assets/vendor-b2.js"><link rel="stylesheet" crossorigin href="/ui/assets/index-c3.css"></head><body></body></html>',
    );
    const res = await request(app()).get('/ui/jobs');
    expect(res.headers.link).toBe('</ui/assets/index-c3.css>; rel=preload; as=style; crossorigin, </ui/assets/index-a1.js>; rel=modulepreload; crossorigin, </ui/assets/vendor-b2.js>; rel=modulepreload; crossorigin');
    writeFileSync(join(dir, 'index.html'), '<html><head></head><body>none</body></html>');
    utimesSync(join(dir, 'index.html'), new Date(), new Date(Date.now() + 5000));
    expect((await request(app()).get('/ui/')).headers.link).toBeUndefined();
  });

  it('serves assets precompressed by Accept-Encoding with an immutable cache; a missing one is a plain 404', async () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<html><head></head></html>');
    const js = 'console.log("hello")';
    writeFileSync(join(dir, 'assets', 'a-1.js'), js);
    writeFileSync(join(dir, 'assets', 'a-1.js.gz'), gzipSync(js));
    const server = app();
    const gz = await request(server).get('/ui/assets/a-1.js').set('Accept-Encoding', 'gzip');
    expect(gz.status).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-type']).toContain('text/javascript');
    expect(gz.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(gz.headers.vary).toContain('Accept-Encoding');
    expect(gz.text).toBe(js);
    const plain = await request(server).get('/ui/assets/a-1.js').set('Accept-Encoding', 'identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.text).toBe(js);
    for (const path of ['/ui/assets/nope.js', '/ui/assets/', '/ui/assets/..%2findex.html', '/ui/assets/%E0%A4%A']) {
      const res = await request(server).get(path);
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('<html');
    }
  });

  it('redirects /ui to /ui/ keeping the query, leaves other paths alone, and marks AUTH_DISABLED in the page', async () => {
    writeFileSync(join(dir, 'index.html'), '<html><head></head></html>');
    const server = app(true);
    const bare = await request(server).get('/ui?x=1');
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe('/ui/?x=1');
    expect((await request(server).get('/ui/')).text).toContain('<meta name="alidade-auth" content="disabled" />');
    const api = await request(server).get('/api/v1/nothing');
    expect(api.status).toBe(404);
    expect(api.headers['content-security-policy']).toBeUndefined();
    expect((await request(server).get('/uix')).status).toBe(404);
  });
});
