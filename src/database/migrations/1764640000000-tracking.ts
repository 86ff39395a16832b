import { MigrationInterface, QueryRunner } from 'typeorm';

/** The MLflow face: runs, params, tags, metric points and latest values, artifacts, experiment tags, job tokens. */
export class Tracking1764640000000 implements MigrationInterface {
  name = 'Tracking1764640000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "job_token" ("id" SERIAL NOT NULL, "token_hash" character(64) NOT NULL, "job_id" uuid NOT NULL, "experiment_id" integer NOT NULL, "owner_id" integer NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "revoked_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_dc1e964f758d79aa3317b7a3d8d" PRIMARY KEY ("id"))`);
    await q.query(`CREATE UNIQUE INDEX "UQ_job_token_hash" ON "job_token"("token_hash")`);
    await q.query(`CREATE INDEX "IDX_job_token_job_id" ON "job_token"("job_id")`);
    await q.query(`CREATE TABLE "run_param" ("run_id" character varying(32) NOT NULL, "key" character varying(250) NOT NULL, "value" text NOT NULL, CONSTRAINT "PK_0f7e65bacdfe680327b29b148e4" PRIMARY KEY ("run_id", "key"))`);
    await q.query(`CREATE TABLE "run_tag" ("run_id" character varying(32) NOT NULL, "key" character varying(250) NOT NULL, "value" text NOT NULL, CONSTRAINT "PK_0e807da776423fbe23d5c0b1c44" PRIMARY KEY ("run_id", "key"))`);
    await q.query(`CREATE TABLE "run_metric" ("run_id" character varying(32) NOT NULL, "key" character varying(250) NOT NULL, "timestamp" bigint NOT NULL, "step" bigint NOT NULL, "value" double precision NOT NULL, CONSTRAINT "PK_64646be03059fc27ee18e4dd804" PRIMARY KEY ("run_id", "key", "timestamp", "step", "value"))`);
    await q.query(`CREATE INDEX "IDX_run_metric_run_id_key_step" ON "run_metric"("run_id", "key", "step")`);
    await q.query(`CREATE TABLE "run_latest_metric" ("run_id" character varying(32) NOT NULL, "key" character varying(250) NOT NULL, "value" double precision NOT NULL, "timestamp" bigint NOT NULL, "step" bigint NOT NULL, CONSTRAINT "PK_9529675dfae4cc417c73fdb5a3f" PRIMARY KEY ("run_id", "key"))`);
    await q.query(`CREATE INDEX "IDX_run_latest_metric_key_value" ON "run_latest_metric"("key", "value")`);
    await q.query(`CREATE TABLE "run_artifact" ("run_id" character varying(32) NOT NULL, "path" text COLLATE "C" NOT NULL, "size" bigint NOT NULL, "blob_key" text NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_f3f9deeaee17f96ca37cf95ac00" PRIMARY KEY ("run_id", "path"))`);
    await q.query(`CREATE TABLE "experiment_tag" ("experiment_id" integer NOT NULL, "key" character varying(250) NOT NULL, "value" text NOT NULL, CONSTRAINT "PK_e430162cec64afba863b77f6c3e" PRIMARY KEY ("experiment_id", "key"))`);
    await q.query(`CREATE TABLE "run" ("id" character varying(32) NOT NULL, "experiment_id" integer NOT NULL, "owner_id" integer NOT NULL, "job_id" uuid, "user_id" text NOT NULL, "status" text NOT NULL, "start_time" bigint NOT NULL, "end_time" bigint, "lifecycle_stage" text NOT NULL DEFAULT 'active', "run_name" text NOT NULL DEFAULT '', "artifact_uri" text NOT NULL, "deleted_time" bigint, CONSTRAINT "PK_804c38ffba92002c6d2c646dd46" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "IDX_run_owner_id" ON "run"("owner_id")`);
    await q.query(`CREATE INDEX "IDX_run_job_id" ON "run"("job_id")`);
    await q.query(`CREATE INDEX "IDX_run_experiment_id_start_time" ON "run"("experiment_id", "start_time")`);
    await q.query(`ALTER TABLE "job_token" ADD CONSTRAINT "FK_8298ad30b5008c32e035653940f" FOREIGN KEY ("job_id") REFERENCES "job"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "job_token" DROP CONSTRAINT "FK_8298ad30b5008c32e035653940f"`);
    await q.query(`DROP INDEX "public"."IDX_run_experiment_id_start_time"`);
    await q.query(`DROP INDEX "public"."IDX_run_job_id"`);
    await q.query(`DROP INDEX "public"."IDX_run_owner_id"`);
    await q.query(`DROP TABLE "run"`);
    await q.query(`DROP TABLE "experiment_tag"`);
    await q.query(`DROP TABLE "run_artifact"`);
    await q.query(`DROP INDEX "public"."IDX_run_latest_metric_key_value"`);
    await q.query(`DROP TABLE "run_latest_metric"`);
    await q.query(`DROP INDEX "public"."IDX_run_metric_run_id_key_step"`);
    await q.query(`DROP TABLE "run_metric"`);
    await q.query(`DROP TABLE "run_tag"`);
    await q.query(`DROP TABLE "run_param"`);
    await q.query(`DROP INDEX "public"."IDX_job_token_job_id"`);
    await q.query(`DROP INDEX "public"."UQ_job_token_hash"`);
    await q.query(`DROP TABLE "job_token"`);
  }
}
