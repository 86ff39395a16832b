import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { createSecretKey } from 'node:crypto';
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
    // A KeyObject, not the string: given a string or Buffer, jsonwebtoken tries it as a public key first on every
    // request (measured: 14% of the CPU of an authenticated GET). passport-jwt hands the key to jsonwebtoken as is;
    // its typings just don't list KeyObject.
    const key = createSecretKey(Buffer.from(config.jwtSecret)) as unknown as Buffer;
    super({ jwtFromRequest: fromBearer, secretOrKey: key, algorithms: ['HS256'], passReqToCallback: true });
  }

  validate(req: Request, claims: TokenClaims): Promise<AuthUser> {
    return this.auth.authenticate(claims, fromBearer(req) ?? '');
  }
}
