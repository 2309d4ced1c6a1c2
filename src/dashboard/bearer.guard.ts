import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { AuthService } from './auth.service.js';

/** REST needs `Authorization: Bearer <token>`; the manager's name is kept on the request. */
@Injectable()
export class BearerGuard implements CanActivate {
  constructor(private readonly auth: AuthService) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<Request & { manager?: string }>();
    const [scheme, token] = (req.headers.authorization ?? '').split(' ');
    const manager = scheme?.toLowerCase() === 'bearer' ? this.auth.verify(token) : null;
    if (!manager) throw new UnauthorizedException('missing or invalid bearer token');
    req.manager = manager;
    return true;
  }
}
