import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';
import { WorkerBeat, workerKey, workersSetKey } from './worker-registry';

/** The live worker processes, read from their heartbeats in Redis (Postgres knows nothing of idle workers). */
@Injectable()
export class WorkersService {
  constructor(private readonly redis: RedisService) {}

  /** Every worker whose last beat has not expired, by host; names whose key has expired are dropped from the set. */
  async list(): Promise<WorkerBeat[]> {
    const prefix = this.redis.prefix;
    const hosts = await this.redis.client.smembers(workersSetKey(prefix));
    if (hosts.length === 0) return [];
    const values = await this.redis.client.mget(hosts.map((h) => workerKey(prefix, h)));
    const gone = hosts.filter((_, i) => values[i] === null);
    // A worker that beats again re-adds itself, so removing a name whose key has expired loses nothing.
    if (gone.length > 0) await this.redis.client.srem(workersSetKey(prefix), ...gone);
    const beats = values.flatMap((v) => (v === null ? [] : [parseBeat(v)])).filter((b): b is WorkerBeat => b !== null);
    return beats.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  }
}

/** A beat as stored; anything else in the key (another version, a hand edit) is skipped rather than failing the list. */
function parseBeat(text: string): WorkerBeat | null {
  try {
    const b = JSON.parse(text) as Partial<WorkerBeat>;
    if (typeof b.host !== 'string' || typeof b.concurrency !== 'number' || typeof b.lastSeen !== 'string' || !Array.isArray(b.running)) return null;
    const queues = Array.isArray(b.queues) ? b.queues.filter((q): q is string => typeof q === 'string') : null;
    return { host: b.host, queues, concurrency: b.concurrency, running: b.running.filter((r): r is string => typeof r === 'string'), lastSeen: b.lastSeen };
  } catch {
    return null;
  }
}
