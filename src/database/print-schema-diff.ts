// Developer tool: prints the SQL that would bring the database given as the first argument in line with the entities.
// Used to write migrations (and by the drift test, which expects it to print nothing).
import { DataSource } from 'typeorm';
import { typeOrmOptions } from './typeorm-options';

async function main() {
  const ds = await new DataSource(typeOrmOptions(process.argv[2])).initialize();
  await ds.runMigrations();
  const sql = await ds.driver.createSchemaBuilder().log();
  for (const q of sql.upQueries) process.stdout.write(`UP   ${q.query};\n`);
  for (const q of sql.downQueries.reverse()) process.stdout.write(`DOWN ${q.query};\n`);
  await ds.destroy();
}
void main();
