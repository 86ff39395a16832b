import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Blobs in chunks: `blob` keeps key, size and sha256 and gains a surrogate id; the bytes move to `blob_chunk`
 * (1 MiB slices keyed by blob id and seq), so no read or write ever holds a whole blob. Rows stored before this
 * migration are split into chunks here, so every blob reads the same way afterwards.
 */
export class BlobChunks1764620000000 implements MigrationInterface {
  name = 'BlobChunks1764620000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "blob" ADD "id" BIGSERIAL NOT NULL`);
    await q.query(`ALTER TABLE "blob" DROP CONSTRAINT "PK_be0b2596cada2daf517719d698f"`);
    await q.query(`ALTER TABLE "blob" ADD CONSTRAINT "PK_96ba396dd89a9ad8b61180bcb96" PRIMARY KEY ("id")`);
    await q.query(`CREATE UNIQUE INDEX "UQ_blob_key" ON "blob" ("key")`);
    await q.query(
      `CREATE TABLE "blob_chunk" ("blob_id" bigint NOT NULL, "seq" integer NOT NULL, "bytes" bytea NOT NULL, CONSTRAINT "PK_0acff4aad78459971578b1d3893" PRIMARY KEY ("blob_id", "seq"))`,
    );
    await q.query(
      `ALTER TABLE "blob_chunk" ADD CONSTRAINT "FK_498292989b0cb8fff5700202268" FOREIGN KEY ("blob_id") REFERENCES "blob"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    // An empty blob has no chunk (generate_series(0, -1) is empty).
    await q.query(
      `INSERT INTO "blob_chunk" ("blob_id", "seq", "bytes")
       SELECT b."id", s.seq, substring(b."bytes" FROM s.seq * 1048576 + 1 FOR 1048576)
       FROM "blob" b CROSS JOIN LATERAL generate_series(0, (octet_length(b."bytes") + 1048575) / 1048576 - 1) AS s(seq)`,
    );
    await q.query(`ALTER TABLE "blob" DROP COLUMN "bytes"`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "blob" ADD "bytes" bytea NOT NULL DEFAULT ''`);
    await q.query(
      `UPDATE "blob" b SET "bytes" = c.bytes FROM (SELECT "blob_id", string_agg("bytes", ''::bytea ORDER BY "seq") AS bytes FROM "blob_chunk" GROUP BY "blob_id") c WHERE c."blob_id" = b."id"`,
    );
    await q.query(`ALTER TABLE "blob" ALTER COLUMN "bytes" DROP DEFAULT`);
    await q.query(`DROP TABLE "blob_chunk"`);
    await q.query(`DROP INDEX "public"."UQ_blob_key"`);
    await q.query(`ALTER TABLE "blob" DROP CONSTRAINT "PK_96ba396dd89a9ad8b61180bcb96"`);
    await q.query(`ALTER TABLE "blob" ADD CONSTRAINT "PK_be0b2596cada2daf517719d698f" PRIMARY KEY ("key")`);
    await q.query(`ALTER TABLE "blob" DROP COLUMN "id"`);
  }
}
