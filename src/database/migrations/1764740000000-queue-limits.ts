import { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-queue job limits, admin-set: memory in bytes and processes; NULL = the worker's JOB_MEMORY_LIMIT / JOB_PIDS_LIMIT. */
export class QueueLimits1764740000000 implements MigrationInterface {
  name = 'QueueLimits1764740000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "queue" ADD "memory_limit" bigint`);
    await q.query(`ALTER TABLE "queue" ADD "pids_limit" integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "queue" DROP COLUMN "pids_limit"`);
    await q.query(`ALTER TABLE "queue" DROP COLUMN "memory_limit"`);
  }
}
