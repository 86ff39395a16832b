// The TypeORM CLI's data source (migration:generate / migration:run). Reads DATABASE_URL directly: it runs outside the app.
import { DataSource } from 'typeorm';
import { typeOrmOptions } from './typeorm-options';

export default new DataSource(typeOrmOptions(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/alidade'));
