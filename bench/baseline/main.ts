// Baseline for `GET /api/v1/jobs/{id}`: the barest Nest + TypeORM app that reads one job by primary key.
// No auth, no joins, no DTO mapping: what Alidade's figure is divided by.
import 'reflect-metadata';
import { Controller, Get, Inject, Module, NotFoundException, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Column, DataSource, Entity, PrimaryColumn } from 'typeorm';

@Entity('job')
class Job {
  @PrimaryColumn('uuid') id: string;
  @Column('text') status: string;
  @Column({ name: 'entry_point', type: 'text' }) entryPoint: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

@Controller('jobs')
class JobsController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @Get(':id')
  async get(@Param('id') id: string) {
    const job = await this.ds.getRepository(Job).findOneBy({ id });
    if (!job) throw new NotFoundException();
    return { job };
  }
}

@Module({
  imports: [TypeOrmModule.forRoot({ type: 'postgres', url: process.argv[2], entities: [Job], synchronize: false, extra: { max: 10 } })],
  controllers: [JobsController],
})
class BaselineModule {}

async function main() {
  const app = await NestFactory.create(BaselineModule, { logger: ['error'] });
  await app.listen(Number(process.argv[3]), '127.0.0.1');
  process.stdout.write('ready\n');
}
void main();
