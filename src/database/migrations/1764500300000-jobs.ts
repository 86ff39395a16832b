import { MigrationInterface, QueryRunner } from 'typeorm';

export class Jobs1764500300000 implements MigrationInterface {
  name = 'Jobs1764500300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "job" ("id" uuid NOT NULL, "seq" BIGSERIAL NOT NULL, "experiment_id" integer NOT NULL, "queue_id" integer NOT NULL, "owner_id" integer NOT NULL, "status" text NOT NULL, "entry_point" text NOT NULL, "entry_point_kwargs" text, "parameters" jsonb NOT NULL DEFAULT '{}', "depends_on" uuid, "timeout" text NOT NULL, "timeout_seconds" integer NOT NULL, "workflow_key" text NOT NULL, "workflow_uri" text NOT NULL, "mlflow_run_id" character(32), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "last_modified" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP(3) WITH TIME ZONE, "ended_at" TIMESTAMP(3) WITH TIME ZONE, "exit_code" integer, "failure_reason" text, "worker_host" text, CONSTRAINT "PK_98ab1c14ff8d1cf80d18703b92f" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE UNIQUE INDEX "UQ_job_seq" ON "job" ("seq")`);
    await q.query(`CREATE INDEX "IDX_job_experiment_id" ON "job" ("experiment_id")`);
    await q.query(`CREATE INDEX "IDX_job_owner_id" ON "job" ("owner_id")`);
    await q.query(`CREATE INDEX "IDX_job_status" ON "job" ("status")`);
    await q.query(`CREATE INDEX "IDX_job_depends_on" ON "job" ("depends_on")`);
    await q.query(`CREATE INDEX "IDX_job_created_at" ON "job" ("created_at")`);
    await q.query(`CREATE INDEX "IDX_job_last_modified" ON "job" ("last_modified")`);
    await q.query(`CREATE INDEX "IDX_job_queue_id_status" ON "job" ("queue_id", "status")`);
    await q.query(
      `CREATE TABLE "job_log" ("id" BIGSERIAL NOT NULL, "job_id" uuid NOT NULL, "stream" text NOT NULL, "line" text NOT NULL, "time" TIMESTAMP(3) WITH TIME ZONE NOT NULL, CONSTRAINT "PK_7fae985f584950ab07d2f7a5712" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_job_log_job_id_id" ON "job_log" ("job_id", "id")`);
    await q.query(
      `ALTER TABLE "job" ADD CONSTRAINT "FK_eaba781a975ef890ee0e755b67e" FOREIGN KEY ("experiment_id") REFERENCES "experiment"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "job" ADD CONSTRAINT "FK_276b4a8597badbcd15d9fae6115" FOREIGN KEY ("queue_id") REFERENCES "queue"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "job" ADD CONSTRAINT "FK_ef9e98af53d861f4945986ff47b" FOREIGN KEY ("owner_id") REFERENCES "user"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "job" ADD CONSTRAINT "FK_0c085d1c1f96917173835c75db8" FOREIGN KEY ("depends_on") REFERENCES "job"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "job_log" ADD CONSTRAINT "FK_afca576a36dd635a3643a2a2c87" FOREIGN KEY ("job_id") REFERENCES "job"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "job_log"`);
    await q.query(`DROP TABLE "job"`);
  }
}
