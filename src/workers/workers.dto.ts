import { ApiProperty } from '@nestjs/swagger';

export class WorkerDto {
  /** `<hostname>:<pid>` of the worker process. */
  @ApiProperty() host: string;
  /** The queue names it serves (WORKER_QUEUES), or null when it serves every queue. */
  @ApiProperty({ type: [String], nullable: true }) queues: string[] | null;
  /** Jobs it runs at once (WORKER_CONCURRENCY). */
  @ApiProperty() concurrency: number;
  /** Ids of the jobs it is running now (as of its last beat). */
  @ApiProperty({ type: [String] }) running: string[];
  /** Its last heartbeat (every 4 s; a worker is gone 12 s after its last one). */
  @ApiProperty() lastSeen: string;
}

export class WorkersReplyDto {
  /** Live worker processes, sorted by host. */
  @ApiProperty({ type: [WorkerDto] }) workers: WorkerDto[];
}
