import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** What the worker reads beyond JobLifecycleRepository (which does every status change). */
@Injectable()
export class RunnerRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** The `started` jobs of one queue (IDX_job_queue_id_status): the worker-lost check compares them with Bull. */
  async findStartedInQueue(queueId: number): Promise<Array<{ id: string; workerHost: string | null }>> {
    const rows: Array<{ id: string; worker_host: string | null }> = await this.ds.query(
      `SELECT id, worker_host FROM job WHERE queue_id = $1 AND status = 'started' ORDER BY seq`,
      [queueId],
    );
    return rows.map((r) => ({ id: r.id, workerHost: r.worker_host }));
  }
}
