import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res, UnauthorizedException, UseFilters, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { AlertsService } from '../alerts/alerts.service.js';
import { AnalyticsService } from '../analytics/analytics.service.js';
import { AppointmentRepository } from '../appointments/appointment.repository.js';
import { CLOCK, type Clock } from '../clock/clock.js';
import { toCsv } from '../analytics/csv.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import { analyticsQuery } from '../contracts/analytics.js';
import { alertStateFilter, loginRequest, taskStateFilter } from '../contracts/api.js';
import { Rejection } from '../contracts/rejection.js';
import { dispatchRequest } from '../contracts/tasks.js';
import { parseOrReject } from '../contracts/validate.js';
import { DevicesService } from '../devices/devices.service.js';
import { TasksService } from '../tasks/tasks.service.js';
import { AuthService } from './auth.service.js';
import { BearerGuard } from './bearer.guard.js';
import { RejectionFilter } from './rejection.filter.js';

type AuthedRequest = { manager: string };

/** The lobby-manager REST API (contract section 6). Thin: parse, call one service, return. */
@Controller('api')
@UseFilters(RejectionFilter)
export class ApiController {
  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly auth: AuthService,
    private readonly devices: DevicesService,
    private readonly tasks: TasksService,
    private readonly alerts: AlertsService,
    private readonly analytics: AnalyticsService,
    private readonly appointments: AppointmentRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('auth/login')
  @HttpCode(200)
  async login(@Body() body: unknown) {
    const { username, password } = parseOrReject(loginRequest, body ?? {});
    const token = await this.auth.login(username, password);
    if (!token) throw new UnauthorizedException('bad username or password');
    return { token };
  }

  /** Only the branches the manager may see (contract section 6). */
  @Get('branches')
  @UseGuards(BearerGuard)
  branches(@Req() req: AuthedRequest) {
    const mine = this.auth.branchesOf(req.manager);
    return this.config.branches.filter((b) => mine.includes(b.id)).map(({ id, name, zones, services }) => ({ id, name, zones, services }));
  }

  @Get('branches/:b/devices')
  @UseGuards(BearerGuard)
  branchDevices(@Param('b') b: string, @Req() req: AuthedRequest) {
    return this.devices.list(this.auth.assertMay(req.manager, b));
  }

  @Get('branches/:b/tasks')
  @UseGuards(BearerGuard)
  branchTasks(@Param('b') b: string, @Query('state') state: unknown, @Req() req: AuthedRequest) {
    return this.tasks.list(this.auth.assertMay(req.manager, b), parseOrReject(taskStateFilter, state || undefined, ['state']));
  }

  @Post('branches/:b/tasks')
  @UseGuards(BearerGuard)
  dispatch(@Param('b') b: string, @Body() body: unknown, @Req() req: AuthedRequest) {
    const branchId = this.auth.assertMay(req.manager, b);
    const request = parseOrReject(dispatchRequest, body ?? {});
    return this.tasks.create(branchId, { ...request, origin: `manager:${req.manager}` });
  }

  @Get('tasks/:id')
  @UseGuards(BearerGuard)
  task(@Param('id') id: string, @Req() req: AuthedRequest) {
    return this.ownTask(id, req.manager);
  }

  @Post('tasks/:id/cancel')
  @HttpCode(200)
  @UseGuards(BearerGuard)
  async cancel(@Param('id') id: string, @Req() req: AuthedRequest) {
    await this.ownTask(id, req.manager);
    return this.tasks.cancel(id, `manager:${req.manager}`);
  }

  @Get('branches/:b/alerts')
  @UseGuards(BearerGuard)
  branchAlerts(@Param('b') b: string, @Query('state') state: unknown, @Req() req: AuthedRequest) {
    return this.alerts.list(this.auth.assertMay(req.manager, b), parseOrReject(alertStateFilter, state || undefined, ['state']));
  }

  @Post('alerts/:id/ack')
  @HttpCode(200)
  @UseGuards(BearerGuard)
  async ackAlert(@Param('id') id: string, @Req() req: AuthedRequest) {
    const alert = await this.alerts.get(id);
    if (!alert) throw new Rejection('not-found', `no alert ${id}`);
    this.auth.assertMay(req.manager, alert.branchId);
    return this.alerts.acknowledge(id, req.manager);
  }

  /** Those expected in the last 7 days and later, and every live one, by time. */
  @Get('branches/:b/appointments')
  @UseGuards(BearerGuard)
  branchAppointments(@Param('b') b: string, @Req() req: AuthedRequest) {
    const since = new Date(this.clock.now() - 7 * 86_400_000).toISOString();
    return this.appointments.list(this.auth.assertMay(req.manager, b), since);
  }

  @Get('branches/:b/analytics')
  @UseGuards(BearerGuard)
  branchAnalytics(@Param('b') b: string, @Query() query: unknown, @Req() req: AuthedRequest) {
    const { from, to } = parseOrReject(analyticsQuery, query);
    return this.analytics.report(this.auth.assertMay(req.manager, b), from, to);
  }

  /** Extension: the same report as one tidy CSV table, for the bank's own BI. */
  @Get('branches/:b/analytics.csv')
  @UseGuards(BearerGuard)
  async branchAnalyticsCsv(@Param('b') b: string, @Query() query: unknown, @Req() req: AuthedRequest, @Res({ passthrough: true }) res: Response) {
    const { from, to } = parseOrReject(analyticsQuery, query);
    const report = await this.analytics.report(this.auth.assertMay(req.manager, b), from, to);
    res.set({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${b}-analytics-${localDate(report.from)}.csv"` });
    return toCsv(report);
  }

  private async ownTask(id: string, manager: string) {
    const task = await this.tasks.get(id);
    if (!task) throw new Rejection('not-found', `no task ${id}`);
    this.auth.assertMay(manager, task.branchId);
    return task;
  }
}

/** YYYY-MM-DD of an ISO time in the hub's time zone (the branch's, on its edge box), as "today" is. */
function localDate(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
