import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Login sessions keep the sha256 of their token, as access tokens do: a JWT signed with a leaked secret that names an
 * existing session id is still refused. Sessions from before this migration have no hash and so end (log in again).
 */
export class LoginSessionTokenHash1764660000000 implements MigrationInterface {
  name = 'LoginSessionTokenHash1764660000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "login_session" ADD "token_hash" character(64)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "login_session" DROP COLUMN "token_hash"`);
  }
}
