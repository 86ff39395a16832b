import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AuthUser } from '../common/auth-user';
import { AppConfig } from '../config/config';
import { AuthService, TokenClaims } from './auth.service';

const fromBearer = ExtractJwt.fromAuthHeaderAsBearerToken();

/** Verifies the signature and expiry of login and access tokens; AuthService checks the rows behind them. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    private readonly auth: AuthService,
  ) {
    super({ jwtFromRequest: fromBearer, secretOrKey: config.jwtSecret, algorithms: ['HS256'], passReqToCallback: true });
  }

  validate(req: Request, claims: TokenClaims): Promise<AuthUser> {
    return this.auth.authenticate(claims, fromBearer(req) ?? '');
  }
}
