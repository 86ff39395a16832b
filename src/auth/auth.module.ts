// Owns login, bearer-token checking (the global AuthGuard), logout and access tokens. Depends on users/ and on
// tracking/ for job tokens (tracking must not import auth/).
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/config';
import { RedisService } from '../redis/redis.service';
import { TrackingModule } from '../tracking/tracking.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { CredentialsRepository } from './credentials.repository';
import { JwtStrategy } from './jwt.strategy';
import { LoginThrottleStorage } from './login-throttle.storage';
import { TokensController } from './tokens.controller';

@Module({
  imports: [
    UsersModule,
    TrackingModule,
    PassportModule,
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ secret: config.jwtSecret, signOptions: { algorithm: 'HS256' } }),
    }),
    // Login attempts: LOGIN_RATE_LIMIT (10) a minute per client address, counted in Redis across API processes; the
    // ThrottlerGuard is on the login route only.
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, RedisService],
      useFactory: (config: AppConfig, redis: RedisService) => ({
        throttlers: [{ ttl: 60_000, limit: config.loginRateLimit }],
        storage: new LoginThrottleStorage(redis),
      }),
    }),
  ],
  controllers: [AuthController, TokensController],
  providers: [AuthService, CredentialsRepository, JwtStrategy, { provide: APP_GUARD, useClass: AuthGuard }],
})
export class AuthModule {}
