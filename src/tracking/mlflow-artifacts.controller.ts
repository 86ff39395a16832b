import { Controller, Delete, Get, HttpCode, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { AuthUser, CurrentUser, MlflowAuth } from '../common/auth-user';
import { optString } from './mlflow-wire';
import { parseArtifactPath, RunArtifactsService } from './run-artifacts.service';
import { TrackingInvalidError } from './tracking.errors';

const PREFIX = '/api/2.0/mlflow-artifacts/artifacts/';
const anyBody = { schema: { type: 'object', additionalProperties: true } };
/** The `*path` wildcard, declared so the OpenAPI document (and the schema-driven fuzz) knows the parameter. */
const ArtifactPath = () => ApiParam({ name: 'path', type: String, description: '`<experiment id>/<run id>/artifacts/<file path>`, percent-encoded' });

/** The raw (still percent-encoded) artifact path after the route prefix. */
function rawPath(req: Request): string {
  const path = req.path;
  if (!path.startsWith(PREFIX)) throw new TrackingInvalidError('Invalid path');
  return path.slice(PREFIX.length);
}

/**
 * MLflow's artifact proxy (reference §6): `<experiment>/<run>/artifacts/<path>`, as the client derives it from the
 * run's `mlflow-artifacts:` artifact_uri. Bodies stream to and from the blob store; nothing holds a whole file.
 */
@ApiTags('MLflow tracking')
@ApiBearerAuth()
@MlflowAuth()
@Controller('api/2.0/mlflow-artifacts')
export class MlflowArtifactsController {
  constructor(private readonly artifacts: RunArtifactsService) {}

  @Get('artifacts')
  @ApiQuery({ name: 'path', required: false, type: String, description: '<experiment>/<run>/artifacts[/<dir>]' })
  @ApiOperation({ summary: 'List the direct children of ?path= (a file or unknown path → {}).' })
  @ApiOkResponse(anyBody)
  async list(@CurrentUser() actor: AuthUser, @Query() q: Record<string, unknown>): Promise<Record<string, unknown>> {
    const path = (optString(q, 'path') ?? '').replace(/\/+$/, '');
    const loc = path ? parseArtifactPath(path.split('/').map(encodeURIComponent).join('/')) : null;
    const children = await this.artifacts.list(actor, loc);
    if (children.length === 0) return {};
    return { files: children.map((c) => (c.isDir ? { path: c.name, is_dir: true } : { path: c.name, is_dir: false, file_size: Number(c.size) })) };
  }

  @Put('artifacts/*path')
  @ArtifactPath()
  @HttpCode(200)
  @ApiOperation({ summary: 'Upload a file (raw bytes, streamed; overwrites) → {}.' })
  @ApiOkResponse(anyBody)
  async put(@CurrentUser() actor: AuthUser, @Req() req: Request): Promise<Record<string, unknown>> {
    const loc = parseArtifactPath(rawPath(req));
    if (!loc) throw new TrackingInvalidError('Invalid path');
    await this.artifacts.put(actor, loc, req);
    return {};
  }

  @Get('artifacts/*path')
  @ArtifactPath()
  @ApiOperation({ summary: 'Download a file (streamed); missing → 404 RESOURCE_DOES_NOT_EXIST.' })
  async get(@CurrentUser() actor: AuthUser, @Req() req: Request, @Res() res: Response): Promise<void> {
    const loc = parseArtifactPath(rawPath(req));
    if (!loc) throw new TrackingInvalidError('Invalid path');
    const file = await this.artifacts.get(actor, loc);
    res.status(200).setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(file.size));
    await pipeline(file.stream, res);
  }

  @Delete('artifacts/*path')
  @ArtifactPath()
  @HttpCode(200)
  @ApiOperation({ summary: 'Delete a file or directory → {}.' })
  @ApiOkResponse(anyBody)
  async delete(@CurrentUser() actor: AuthUser, @Req() req: Request): Promise<Record<string, unknown>> {
    const loc = parseArtifactPath(rawPath(req));
    if (!loc) throw new TrackingInvalidError('Invalid path');
    await this.artifacts.delete(actor, loc);
    return {};
  }
}
