import Redis from 'ioredis';
import pg from 'pg';

/** Drops this run's databases and Redis keys, then stops anything global setup started. */
export default async function globalTeardown() {
  const run = process.env.ALIDADE_TEST_RUN;
  if (run && process.env.ALIDADE_TEST_PG) {
    const client = new pg.Client({ connectionString: process.env.ALIDADE_TEST_PG });
    await client.connect();
    const { rows } = await client.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`alidade_t_${run}_%`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => undefined);
    await client.end();
  }
  if (run && process.env.ALIDADE_TEST_REDIS) {
    const redis = new Redis(process.env.ALIDADE_TEST_REDIS);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `alidade-t-${run}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
  for (const stop of globalThis.__ALIDADE_STOPS__ ?? []) await stop();
}
