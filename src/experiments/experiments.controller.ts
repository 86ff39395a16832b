import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser } from '../common/auth-user';
import { toIso } from '../common/time';
import { IntParamPipe } from '../common/validation';
import { EmptyDto } from '../users/users.dto';
import { CreateExperimentDto, ExperimentDto, ExperimentReplyDto, ExperimentsPageDto, ExperimentsQueryDto, PatchExperimentDto } from './experiments.dto';
import { ExperimentsService, ExperimentView } from './experiments.service';

@ApiTags('Experiments')
@ApiBearerAuth()
@Controller('api/v1/experiments')
export class ExperimentsController {
  constructor(private readonly experiments: ExperimentsService) {}

  /** List experiments: filters name, archived, labels, users, states; sortBy id, name, startTime, lastModified, numTrials. */
  @Get()
  async list(@Query() q: ExperimentsQueryDto): Promise<ExperimentsPageDto> {
    const page = await this.experiments.list(q);
    return { experiments: page.rows.map(toExperimentDto), pagination: page.pagination };
  }

  /** Create an experiment owned by the caller; the name is slugified. A name in use (also by a deleted one) → 409. */
  @Post()
  async create(@CurrentUser() actor: AuthUser, @Body() dto: CreateExperimentDto): Promise<ExperimentReplyDto> {
    const created = await this.experiments.create(actor, dto);
    return { experiment: toExperimentDto(await this.experiments.view({ id: created.id })) };
  }

  @Get(':id')
  async get(@Param('id', IntParamPipe) id: number): Promise<ExperimentReplyDto> {
    return { experiment: toExperimentDto(await this.experiments.view({ id })) };
  }

  /** Owner or admin: rename, change description or labels. */
  @Patch(':id')
  async patch(@CurrentUser() actor: AuthUser, @Param('id', IntParamPipe) id: number, @Body() dto: PatchExperimentDto): Promise<ExperimentReplyDto> {
    await this.experiments.update(actor, { id }, dto);
    return { experiment: toExperimentDto(await this.experiments.view({ id })) };
  }

  /** Owner or admin: soft delete; refused (400) while a job is active. */
  @Delete(':id')
  async delete(@CurrentUser() actor: AuthUser, @Param('id', IntParamPipe) id: number): Promise<EmptyDto> {
    await this.experiments.delete(actor, { id });
    return {};
  }

  /** Owner or admin: archived experiments accept no new jobs. */
  @Post(':id/archive')
  @HttpCode(200)
  async archive(@CurrentUser() actor: AuthUser, @Param('id', IntParamPipe) id: number): Promise<EmptyDto> {
    await this.experiments.archive(actor, id);
    return {};
  }

  @Post(':id/unarchive')
  @HttpCode(200)
  async unarchive(@CurrentUser() actor: AuthUser, @Param('id', IntParamPipe) id: number): Promise<EmptyDto> {
    await this.experiments.unarchive(actor, id);
    return {};
  }
}

export function toExperimentDto({ experiment: e, stats }: ExperimentView): ExperimentDto {
  return {
    id: e.id,
    name: e.name,
    description: e.description,
    labels: e.labels,
    archived: e.archived,
    state: stats.state,
    numTrials: stats.numTrials,
    progress: stats.progress,
    username: e.owner?.username ?? '',
    startTime: toIso(e.createdAt)!,
    endTime: toIso(stats.endTime),
    lastModified: toIso(e.lastModified)!,
  };
}
