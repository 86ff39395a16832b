import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { AuthUser, CurrentUser, Public } from '../common/auth-user';
import { EmptyDto, UserReplyDto } from '../users/users.dto';
import { toUserDto, UsersService } from '../users/users.service';
import { LoginDto, LoginReplyDto } from './auth.dto';
import { AuthService } from './auth.service';

@ApiTags('Authentication')
@Controller('api/v1')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
  ) {}

  /** Log in with a username and password; at most 10 attempts a minute per client address. */
  @Public()
  @UseGuards(ThrottlerGuard)
  @ApiTooManyRequestsResponse({ description: 'More than 10 attempts within a minute; see Retry-After' })
  @Post('auth/login')
  @HttpCode(200)
  async login(@Body() dto: LoginDto): Promise<LoginReplyDto> {
    const { token, user } = await this.auth.login(dto);
    return { token, user: toUserDto(user) };
  }

  /** Revoke the login token in use. */
  @ApiBearerAuth()
  @Post('auth/logout')
  @HttpCode(200)
  async logout(@CurrentUser() user: AuthUser): Promise<EmptyDto> {
    await this.auth.logout(user);
    return {};
  }

  /** The calling user. */
  @ApiBearerAuth()
  @Get('auth/user')
  async currentUser(@CurrentUser() user: AuthUser): Promise<UserReplyDto> {
    return { user: toUserDto(await this.users.get(user.id)) };
  }

  /** The calling user (same as GET /api/v1/auth/user). */
  @ApiBearerAuth()
  @Get('me')
  async me(@CurrentUser() user: AuthUser): Promise<UserReplyDto> {
    return this.currentUser(user);
  }
}
