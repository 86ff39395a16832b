import { MigrationInterface, QueryRunner } from 'typeorm';

export class ExperimentsQueuesBlobs1764500100000 implements MigrationInterface {
  name = 'ExperimentsQueuesBlobs1764500100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "experiment" ("id" SERIAL NOT NULL, "name" text NOT NULL, "description" text NOT NULL DEFAULT '', "labels" text array NOT NULL DEFAULT '{}', "archived" boolean NOT NULL DEFAULT false, "owner_id" integer NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "last_modified" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "deleted_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_4f6eec215c62eec1e0fde987caf" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE UNIQUE INDEX "UQ_experiment_name" ON "experiment" ("name")`);
    await q.query(`CREATE INDEX "IDX_experiment_archived" ON "experiment" ("archived")`);
    await q.query(`CREATE INDEX "IDX_experiment_owner_id" ON "experiment" ("owner_id")`);
    await q.query(`CREATE INDEX "IDX_experiment_labels" ON "experiment" USING GIN ("labels")`);
    await q.query(
      `CREATE TABLE "queue" ("id" SERIAL NOT NULL, "name" text NOT NULL, "description" text NOT NULL DEFAULT '', "locked_at" TIMESTAMP(3) WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "last_modified" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "deleted_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_4adefbd9c73b3f9a49985a5529f" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE UNIQUE INDEX "UQ_queue_name" ON "queue" ("name")`);
    await q.query(
      `CREATE TABLE "blob" ("key" text NOT NULL, "bytes" bytea NOT NULL, "size" bigint NOT NULL, "sha256" character(64) NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_be0b2596cada2daf517719d698f" PRIMARY KEY ("key"))`,
    );
    await q.query(
      `ALTER TABLE "experiment" ADD CONSTRAINT "FK_b357b1b264272c8459b4e3991d0" FOREIGN KEY ("owner_id") REFERENCES "user"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "blob"`);
    await q.query(`DROP TABLE "queue"`);
    await q.query(`DROP TABLE "experiment"`);
  }
}
