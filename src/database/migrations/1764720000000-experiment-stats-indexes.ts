import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The experiments list derives state, numTrials, progress and endTime from each experiment's jobs. At 100k jobs that
 * aggregate read every row and sorted every job's status (array_agg ORDER BY seq): ~96 ms. With these, the count is
 * an index-only scan, the active jobs an index range, the last end and the latest job index probes
 * (ExperimentsRepository.stats). Both lead with experiment_id, so IDX_job_experiment_id goes.
 */
export class ExperimentStatsIndexes1764720000000 implements MigrationInterface {
  name = 'ExperimentStatsIndexes1764720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "IDX_job_experiment_id_status_ended_at" ON "job" ("experiment_id", "status", "ended_at")`);
    await q.query(`CREATE INDEX "IDX_job_experiment_id_seq" ON "job" ("experiment_id", "seq")`);
    await q.query(`DROP INDEX "public"."IDX_job_experiment_id"`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "IDX_job_experiment_id" ON "job" ("experiment_id")`);
    await q.query(`DROP INDEX "public"."IDX_job_experiment_id_seq"`);
    await q.query(`DROP INDEX "public"."IDX_job_experiment_id_status_ended_at"`);
  }
}
