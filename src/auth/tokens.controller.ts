import { Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser } from '../common/auth-user';
import { toIso } from '../common/time';
import { IntParamPipe } from '../common/validation';
import { EmptyDto } from '../users/users.dto';
import { AccessTokenEntity } from './access-token.entity';
import { CreateTokenDto, CreateTokenReplyDto, TokenDto, TokensPageDto, TokensQueryDto } from './auth.dto';
import { AuthService } from './auth.service';

@ApiTags('Tokens')
@ApiBearerAuth()
@Controller('api/v1/tokens')
export class TokensController {
  constructor(private readonly auth: AuthService) {}

  /** Create an access token (for yourself; admins for anyone). The token is shown once. */
  @Post()
  createToken(@CurrentUser() user: AuthUser, @Body() dto: CreateTokenDto): Promise<CreateTokenReplyDto> {
    return this.auth.createToken(user, dto);
  }

  /** Your access tokens (admins: everyone's). */
  @Get()
  async list(@CurrentUser() user: AuthUser, @Query() q: TokensQueryDto): Promise<TokensPageDto> {
    const page = await this.auth.listTokens(user, q.orderBy ?? 'asc', q.offset ?? 0, q.limit ?? 100);
    return { tokens: page.rows.map(toTokenDto), pagination: page.pagination };
  }

  /** Revoke an access token (owner or admin). */
  @Delete(':id')
  async revoke(@CurrentUser() user: AuthUser, @Param('id', IntParamPipe) id: number): Promise<EmptyDto> {
    await this.auth.revokeToken(user, id);
    return {};
  }
}

function toTokenDto(t: AccessTokenEntity): TokenDto {
  return {
    id: t.id,
    userId: t.userId,
    description: t.description,
    createdAt: toIso(t.createdAt)!,
    expiresAt: toIso(t.expiresAt)!,
    revokedAt: toIso(t.revokedAt),
    lastUsedAt: toIso(t.lastUsedAt),
  };
}
