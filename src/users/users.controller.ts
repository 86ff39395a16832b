import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AdminOnly, AuthUser, CurrentUser } from '../common/auth-user';
import { IntParamPipe } from '../common/validation';
import { ChangePasswordDto, CreateUserDto, EmptyDto, PatchUserDto, UserReplyDto, UsersPageDto, UsersQueryDto } from './users.dto';
import { toUserDto, UsersService } from './users.service';

@ApiTags('Users')
@ApiBearerAuth()
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /** List users (admin). */
  @Get()
  @AdminOnly()
  async list(@Query() q: UsersQueryDto): Promise<UsersPageDto> {
    const page = await this.users.list(q);
    return { users: page.rows.map(toUserDto), pagination: page.pagination };
  }

  /** Create a user (admin). */
  @Post()
  @AdminOnly()
  async create(@Body() dto: CreateUserDto): Promise<UserReplyDto> {
    return { user: toUserDto(await this.users.create(dto)) };
  }

  /** Get a user. */
  @Get(':id')
  async get(@Param('id', IntParamPipe) id: number): Promise<UserReplyDto> {
    return { user: toUserDto(await this.users.get(id)) };
  }

  /** Change displayName (self or admin), admin or active (admin). Deactivating revokes all the user's tokens. */
  @Patch(':id')
  async patch(@CurrentUser() actor: AuthUser, @Param('id', IntParamPipe) id: number, @Body() dto: PatchUserDto): Promise<UserReplyDto> {
    return { user: toUserDto(await this.users.patch(actor, id, dto)) };
  }

  /** Change a password: your own with oldPassword, or anyone's as admin. Revokes that user's login tokens. */
  @Post(':id/password')
  @HttpCode(200)
  async changePassword(@CurrentUser() actor: AuthUser, @Param('id', IntParamPipe) id: number, @Body() dto: ChangePasswordDto): Promise<EmptyDto> {
    await this.users.changePassword(actor, id, dto);
    return {};
  }
}
