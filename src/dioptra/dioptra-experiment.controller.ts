import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser } from '../common/auth-user';
import { ExperimentNameInvalidError } from '../experiments/experiments.errors';
import { ExperimentsService } from '../experiments/experiments.service';
import { DioptraExperimentDto, DioptraIdStatusDto, DioptraNameBodyDto, DioptraNameStatusDto } from './dioptra.dto';
import { DioptraFieldMaskInterceptor, DioptraFormInterceptor, DioptraId, readDioptraBody } from './dioptra-http';
import { idStatus, nameStatus, toDioptraExperiment } from './dioptra-serializers';

const NAME_FIELDS = ['name'] as const;
const formInvalid = (reason: string) => new ExperimentNameInvalidError(reason);
type UploadedParts = Array<{ fieldname: string }> | undefined;

/** Dioptra 0.x experiments (reference §2.2, E1–E8). Every success is 200. Name routes come first so `name/x` never reads as an id. */
@ApiTags('Dioptra: experiments')
@ApiBearerAuth()
@Controller('api/experiment')
@UseInterceptors(DioptraFieldMaskInterceptor)
export class DioptraExperimentController {
  constructor(private readonly experiments: ExperimentsService) {}

  /** E1: every live experiment, in id order. */
  @Get()
  async list(): Promise<DioptraExperimentDto[]> {
    return (await this.experiments.listAllLive()).map(toDioptraExperiment);
  }

  /** E2: register; the name is slugified. The caller owns it. */
  @Post()
  @HttpCode(200)
  @UseInterceptors(DioptraFormInterceptor)
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded', 'multipart/form-data')
  @ApiBody({ type: DioptraNameBodyDto })
  async register(@CurrentUser() actor: AuthUser, @Body() body: unknown, @UploadedFiles() files: UploadedParts): Promise<DioptraExperimentDto> {
    const form = readDioptraBody(body, NAME_FIELDS, formInvalid, files);
    return toDioptraExperiment(await this.experiments.create(actor, { name: form.name }));
  }

  /** E6: by name (slugified before lookup). */
  @Get('name/:name')
  async getByName(@Param('name') name: string): Promise<DioptraExperimentDto> {
    return toDioptraExperiment(await this.experiments.get({ name }));
  }

  /** E7 (classic): rename by name; owner or admin. */
  @Put('name/:name')
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded', 'multipart/form-data')
  @UseInterceptors(DioptraFormInterceptor)
  @ApiBody({ type: DioptraNameBodyDto })
  async renameByName(@CurrentUser() actor: AuthUser, @Param('name') name: string, @Body() body: unknown, @UploadedFiles() files: UploadedParts): Promise<DioptraExperimentDto> {
    const form = readDioptraBody(body, NAME_FIELDS, formInvalid, files);
    return toDioptraExperiment(await this.experiments.update(actor, { name }, { name: form.name ?? null }));
  }

  /** E8: soft delete by name; owner or admin. Replies the name as sent, or an empty list when there was none. */
  @Delete('name/:name')
  async deleteByName(@CurrentUser() actor: AuthUser, @Param('name') name: string): Promise<DioptraNameStatusDto> {
    return nameStatus((await this.experiments.deleteIfExists(actor, { name })) ? [name] : []);
  }

  /** E3 */
  @Get(':id')
  async get(@DioptraId() id: number): Promise<DioptraExperimentDto> {
    return toDioptraExperiment(await this.experiments.get({ id }));
  }

  /** E4: rename; owner or admin. */
  @Put(':id')
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded', 'multipart/form-data')
  @UseInterceptors(DioptraFormInterceptor)
  @ApiBody({ type: DioptraNameBodyDto })
  async rename(@CurrentUser() actor: AuthUser, @DioptraId() id: number, @Body() body: unknown, @UploadedFiles() files: UploadedParts): Promise<DioptraExperimentDto> {
    const form = readDioptraBody(body, NAME_FIELDS, formInvalid, files);
    return toDioptraExperiment(await this.experiments.update(actor, { id }, { name: form.name ?? null }));
  }

  /** E5: soft delete; owner or admin. An unknown id → `"id": []`. */
  @Delete(':id')
  async delete(@CurrentUser() actor: AuthUser, @DioptraId() id: number): Promise<DioptraIdStatusDto> {
    return idStatus((await this.experiments.deleteIfExists(actor, { id })) ? [id] : []);
  }
}
