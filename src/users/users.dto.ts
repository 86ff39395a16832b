import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Length, Matches, MaxLength, MinLength } from 'class-validator';
import { PageQueryDto, PaginationDto } from '../common/pagination';
import { QueryBoolean } from '../common/query-booleans';

export const USERNAME_PATTERN = /^[A-Za-z0-9_.@-]{2,64}$/;

export class UserDto {
  @ApiProperty() id: number;
  @ApiProperty() username: string;
  @ApiProperty({ type: String, nullable: true }) displayName: string | null;
  @ApiProperty() admin: boolean;
  @ApiProperty() active: boolean;
  @ApiProperty() createdAt: string;
  @ApiProperty() modifiedAt: string;
  @ApiProperty({ type: String, nullable: true }) lastAuthAt: string | null;
}

export class UserReplyDto {
  @ApiProperty({ type: UserDto }) user: UserDto;
}

export class UsersPageDto {
  @ApiProperty({ type: [UserDto] }) users: UserDto[];
  @ApiProperty({ type: PaginationDto }) pagination: PaginationDto;
}

export class CreateUserDto {
  /** 2–64 characters of A-Z a-z 0-9 _ . @ - ; unique case-insensitively. */
  @IsString()
  @Matches(USERNAME_PATTERN, { message: 'username must be 2-64 characters of letters, digits, _ . @ -' })
  username: string;

  /** At least 8 characters. */
  @IsString() @MinLength(8) @MaxLength(1024) password: string;

  @IsOptional() @IsBoolean() admin?: boolean;
  @IsOptional() @IsBoolean() active?: boolean;
  @IsOptional() @IsString() @Length(0, 255) displayName?: string;
}

export class PatchUserDto {
  @IsOptional() @IsString() @Length(0, 255) displayName?: string;
  @IsOptional() @IsBoolean() admin?: boolean;
  @IsOptional() @IsBoolean() active?: boolean;
}

export class ChangePasswordDto {
  /** The new password, at least 8 characters. */
  @IsString() @MinLength(8) @MaxLength(1024) password: string;
  /** Required when changing your own password. */
  @IsOptional() @IsString() @MaxLength(1024) oldPassword?: string;
}

export class UsersQueryDto extends PageQueryDto {
  /** Substring of the username or display name. */
  @IsOptional() @IsString() name?: string;
  @IsOptional() @QueryBoolean() @IsBoolean() admin?: boolean;
  @IsOptional() @QueryBoolean() @IsBoolean() active?: boolean;
  @ApiProperty({ enum: ['id', 'username', 'lastAuthAt'], required: false, default: 'id' })
  @IsOptional()
  @IsIn(['id', 'username', 'lastAuthAt'])
  sortBy?: 'id' | 'username' | 'lastAuthAt' = 'id';
}

export class EmptyDto {}
