import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { MAX_ROW_ID } from '../common/sql';
import { PageQueryDto, PaginationDto } from '../common/pagination';
import { UserDto } from '../users/users.dto';

export class LoginDto {
  @IsString() @Length(1, 64) username: string;
  @IsString() @Length(1, 1024) password: string;
}

export class LoginReplyDto {
  /** Bearer token, valid 7 days or until logout. */
  @ApiProperty() token: string;
  @ApiProperty({ type: UserDto }) user: UserDto;
}

export const LIFESPAN_PATTERN = /^\d+[smhd]?$/;

export class CreateTokenDto {
  @IsOptional() @IsString() @MaxLength(255) description?: string;
  /** Like `30d`, `12h`, `90m`; a bare number is seconds. Default 30d, at most 365d. */
  @IsOptional() @IsString() @Matches(LIFESPAN_PATTERN, { message: 'lifespan must be a number with an optional unit s, m, h or d (e.g. 30d)' }) lifespan?: string;
  /** Whose token (admins only; default yourself). */
  @IsOptional() @IsInt() @Min(1) @Max(MAX_ROW_ID) userId?: number;
}

export class CreateTokenReplyDto {
  /** Shown once; only its hash is stored. */
  @ApiProperty() token: string;
  @ApiProperty() tokenId: number;
}

export class TokenDto {
  @ApiProperty() id: number;
  @ApiProperty() userId: number;
  @ApiProperty() description: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() expiresAt: string;
  @ApiProperty({ type: String, nullable: true }) revokedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) lastUsedAt: string | null;
}

export class TokensPageDto {
  @ApiProperty({ type: [TokenDto] }) tokens: TokenDto[];
  @ApiProperty({ type: PaginationDto }) pagination: PaginationDto;
}

export class TokensQueryDto extends PageQueryDto {}
