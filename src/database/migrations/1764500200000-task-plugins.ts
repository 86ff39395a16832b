import { MigrationInterface, QueryRunner } from 'typeorm';

export class TaskPlugins1764500200000 implements MigrationInterface {
  name = 'TaskPlugins1764500200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "task_plugin" ("id" SERIAL NOT NULL, "collection" text NOT NULL, "name" text NOT NULL, "owner_id" integer, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "CHK_task_plugin_collection" CHECK ("collection" IN ('dioptra_builtins', 'dioptra_custom')), CONSTRAINT "PK_c3bc6bbba9f50377f14de8621bd" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_task_plugin_name" ON "task_plugin" ("name")`);
    await q.query(`CREATE UNIQUE INDEX "UQ_task_plugin_collection_name" ON "task_plugin" ("collection", "name")`);
    await q.query(
      `CREATE TABLE "task_plugin_file" ("plugin_id" integer NOT NULL, "filename" text NOT NULL, "content" bytea NOT NULL, CONSTRAINT "PK_f31163726dab591f7081e9bb1f7" PRIMARY KEY ("plugin_id", "filename"))`,
    );
    await q.query(
      `ALTER TABLE "task_plugin" ADD CONSTRAINT "FK_4cde079d606ee3f93cd0cc5da2f" FOREIGN KEY ("owner_id") REFERENCES "user"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "task_plugin_file" ADD CONSTRAINT "FK_82de204b61dd9a16a0ee9c94c5f" FOREIGN KEY ("plugin_id") REFERENCES "task_plugin"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "task_plugin_file"`);
    await q.query(`DROP TABLE "task_plugin"`);
  }
}
