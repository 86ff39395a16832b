import { MigrationInterface, QueryRunner } from 'typeorm';

export class UsersAndAuth1764500000000 implements MigrationInterface {
  name = 'UsersAndAuth1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "user" ("id" SERIAL NOT NULL, "username" text NOT NULL, "display_name" text, "password_hash" text NOT NULL, "admin" boolean NOT NULL DEFAULT false, "active" boolean NOT NULL DEFAULT true, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "modified_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "last_auth_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_cace4a159ff9f2512dd42373760" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE UNIQUE INDEX "UQ_user_username_lower" ON "user" (lower("username"))`);
    await q.query(
      `CREATE TABLE "access_token" ("id" SERIAL NOT NULL, "user_id" integer NOT NULL, "token_hash" character(64) NOT NULL, "description" text NOT NULL DEFAULT '', "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP(3) WITH TIME ZONE, "last_used_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_f20f028607b2603deabd8182d12" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_access_token_user_id" ON "access_token" ("user_id")`);
    await q.query(
      `CREATE TABLE "login_session" ("id" SERIAL NOT NULL, "user_id" integer NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_705d252226d51c48c6368d52855" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "IDX_login_session_user_id" ON "login_session" ("user_id")`);
    await q.query(
      `ALTER TABLE "access_token" ADD CONSTRAINT "FK_4bd9bc00776919370526766eb43" FOREIGN KEY ("user_id") REFERENCES "user"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "login_session" ADD CONSTRAINT "FK_1ab0019b1dcfb7c79a4257e8f28" FOREIGN KEY ("user_id") REFERENCES "user"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "login_session"`);
    await q.query(`DROP TABLE "access_token"`);
    await q.query(`DROP TABLE "user"`);
  }
}
