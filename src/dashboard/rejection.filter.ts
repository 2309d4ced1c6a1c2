import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { Rejection } from '../contracts/rejection.js';

const STATUS: Partial<Record<Rejection['code'], number>> = { 'not-found': 404, conflict: 409, forbidden: 403 };

/** A refused request: 400 naming the field (404 for what does not exist, 409 for a task already closed, 403 for another manager's branch). */
@Catch(Rejection)
export class RejectionFilter implements ExceptionFilter {
  catch(e: Rejection, host: ArgumentsHost): void {
    const status = STATUS[e.code] ?? 400;
    host.switchToHttp().getResponse<Response>().status(status).json({ statusCode: status, error: e.code, message: e.detail });
  }
}
