// Owns users: their rows, passwords and the bootstrap admin. Must not import auth/ (auth depends on users).
import { Module } from '@nestjs/common';
import { AuthCache } from './auth-cache';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({
  controllers: [UsersController],
  providers: [UsersRepository, UsersService, AuthCache],
  exports: [UsersService, AuthCache],
})
export class UsersModule {}
