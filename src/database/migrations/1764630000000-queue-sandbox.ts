import { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-queue sandbox choices, admin-set: `network` (`none`, `host`; NULL = the worker's JOB_NETWORK) and device paths. */
export class QueueSandbox1764630000000 implements MigrationInterface {
  name = 'QueueSandbox1764630000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "queue" ADD "network" text`);
    await q.query(`ALTER TABLE "queue" ADD "devices" text array NOT NULL DEFAULT '{}'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "queue" DROP COLUMN "devices"`);
    await q.query(`ALTER TABLE "queue" DROP COLUMN "network"`);
  }
}
