import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { WorkersReplyDto } from './workers.dto';
import { WorkersService } from './workers.service';

@ApiTags('Workers')
@ApiBearerAuth()
@Controller('api/v1/workers')
export class WorkersController {
  constructor(private readonly workers: WorkersService) {}

  /** The live worker processes (from their heartbeats in Redis): queues served, concurrency, running jobs, last beat. */
  @Get()
  async list(): Promise<WorkersReplyDto> {
    return { workers: await this.workers.list() };
  }
}
