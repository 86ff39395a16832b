import { loadConfig } from '../config/config';
import { redactUrl, startBanner } from './banner';

describe('start banner', () => {
  it('hides passwords in URLs and keeps the user and host', () => {
    expect(redactUrl('postgres://alidade:s3cret@db:5432/alidade')).toBe('postgres://alidade:***@db:5432/alidade');
    expect(redactUrl('redis://:pw@redis:6379')).toBe('redis://:***@redis:6379');
    expect(redactUrl('redis://redis:6379')).toBe('redis://redis:6379');
  });

  it('says what runs where in a few lines, and boxes the first admin password', () => {
    const config = loadConfig({ JWT_SECRET: 'x'.repeat(32), WORKER_QUEUES: 'gpu,cpu', WORKER_CONCURRENCY: '2', PORT: '3100' }, 'all');
    const { lines, password } = startBanner({
      config,
      database: 'postgres://alidade:***@db:5432/alidade',
      redis: 'redis://redis:6379',
      sandbox: 'bwrap',
      adminPassword: 'Abc123-_xyzXYZ12',
      version: '0.1.0',
      dashboard: true,
    });
    const text = lines.join('\n');
    expect(lines.length).toBeLessThanOrEqual(12);
    for (const part of ['role all', 'http://localhost:3100/', 'http://localhost:3100/ui', 'postgres://alidade:***@db', 'key prefix "alidade"', 'queues: gpu, cpu; 2 jobs at a time', 'bwrap']) {
      expect(text).toContain(part);
    }
    expect(password!.join('\n')).toContain('Abc123-_xyzXYZ12');
    expect(password!.join('\n')).toContain('reset-password');
    expect(new Set(password!.map((l) => l.length)).size).toBe(1); // a closed box
  });

  it('shows no HTTP lines for a worker, and no password box after the first start', () => {
    const config = loadConfig({ PUBLIC_URL: 'http://api:3000' }, 'worker');
    const { lines, password } = startBanner({ config, database: 'd', redis: 'r', version: '0.1.0' });
    expect(lines.join('\n')).not.toContain('Swagger');
    expect(lines.join('\n')).toContain('MLflow face at http://api:3000');
    expect(password).toBeUndefined();
  });
});
