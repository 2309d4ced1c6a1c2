import { Inject, Logger } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer, type OnGatewayConnection, type OnGatewayInit } from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import { AlertsService } from '../alerts/alerts.service.js';
import { AppointmentRepository } from '../appointments/appointment.repository.js';
import { Branches } from '../branch/branches.service.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import { ackAlertCommand, cancelCommand, pausePromotionsCommand, type BranchSnapshot, type ClientToServerEvents, type CommandAnswer, type ServerToClientEvents } from '../contracts/api.js';
import { Rejection } from '../contracts/rejection.js';
import { dispatchRequest } from '../contracts/tasks.js';
import { parseOrReject } from '../contracts/validate.js';
import { DevicesService } from '../devices/devices.service.js';
import { HubEvents } from '../hub-events.js';
import { TasksService } from '../tasks/tasks.service.js';
import { UplinkService } from '../uplink/uplink.service.js';
import { CLOCK, type Clock } from '../clock/clock.js';
import { AuthService } from './auth.service.js';

/** The room of a branch's live events: sockets join it once they have their snapshot, and only for their manager's branches. */
const live = (branchId: string) => `live:${branchId}`;

type DashboardNamespace = Namespace<ClientToServerEvents, ServerToClientEvents>;
type DashboardSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, { manager: string }>;

/**
 * Socket.IO `/dashboard` (contract section 6): token auth at connect, a `snapshot`, then live `device`,
 * `task`, `alert` and `summary` events; commands answer through the ack callback.
 */
@WebSocketGateway({ namespace: '/dashboard' })
export class DashboardGateway implements OnGatewayInit, OnGatewayConnection {
  private readonly logger = new Logger(DashboardGateway.name);
  @WebSocketServer() private readonly nsp!: DashboardNamespace;

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly auth: AuthService,
    private readonly devices: DevicesService,
    private readonly tasks: TasksService,
    private readonly alerts: AlertsService,
    private readonly branches: Branches,
    private readonly appointments: AppointmentRepository,
    private readonly uplink: UplinkService,
    @Inject(CLOCK) private readonly clock: Clock,
    events: HubEvents,
  ) {
    // A room nobody watches is skipped: Socket.IO would encode every event of every device for nobody.
    const room = (branchId: string) => (this.nsp?.adapter.rooms.get(live(branchId))?.size ? this.nsp.to(live(branchId)) : undefined);
    events.on('deviceChanged', (e) => void room(e.branchId)?.emit('device', e.device));
    events.on('taskChanged', (e) => void room(e.branchId)?.emit('task', e.task));
    events.on('alertChanged', (e) => void room(e.branchId)?.emit('alert', e.alert));
    events.on('summary', (e) => void room(e.branchId)?.emit('summary', { branchId: e.branchId, ...e.summary }));
    events.on('appointmentChanged', (e) => void room(e.branchId)?.emit('appointment', e.appointment));
    events.on('uplinkChanged', (e) => void room(e.branchId)?.emit('uplink', { branchId: e.branchId, ...e.uplink }));
  }

  afterInit(nsp: DashboardNamespace): void {
    nsp.use((socket, next) => {
      const manager = this.auth.verify(socket.handshake.auth?.token);
      if (!manager) return next(new Error('unauthorized: missing or invalid token'));
      socket.data.manager = manager;
      next();
    });
  }

  /**
   * The snapshot first, then live events: the socket joins its branches' rooms only once it has the snapshot.
   * A socket that reconnects gets a fresh snapshot, so it misses nothing that is still open.
   */
  async handleConnection(socket: DashboardSocket): Promise<void> {
    const mine = this.auth.branchesOf(socket.data.manager);
    const branches = await this.snapshot(mine);
    socket.emit('snapshot', { branches });
    await socket.join(mine.map(live));
    // Open alerts were read before the snapshot went out: what changed in between follows as `alert` events.
    for (const b of branches) {
      const now = await this.alerts.list(b.id, 'open');
      for (const a of now) if (JSON.stringify(a) !== JSON.stringify(b.alerts.find((x) => x.id === a.id))) socket.emit('alert', a);
      for (const gone of b.alerts.filter((x) => !now.some((a) => a.id === x.id))) {
        const closed = await this.alerts.get(gone.id);
        if (closed) socket.emit('alert', closed);
      }
    }
  }

  @SubscribeMessage('dispatch')
  dispatch(@MessageBody() body: unknown, @ConnectedSocket() socket: DashboardSocket): Promise<CommandAnswer> {
    return this.answer(socket, async () => {
      const { branchId, ...rest } = (body ?? {}) as { branchId?: unknown };
      if (typeof branchId !== 'string' || !this.config.branches.some((b) => b.id === branchId)) {
        throw new Rejection('invalid-payload', 'branchId: unknown branch');
      }
      this.auth.assertMay(socket.data.manager, branchId);
      const req = parseOrReject(dispatchRequest, rest);
      return { task: await this.tasks.create(branchId, { ...req, origin: `manager:${socket.data.manager}` }) };
    });
  }

  @SubscribeMessage('cancel')
  cancel(@MessageBody() body: unknown, @ConnectedSocket() socket: DashboardSocket): Promise<CommandAnswer> {
    return this.answer(socket, async () => {
      const { taskId } = parseOrReject(cancelCommand, body ?? {});
      const task = await this.tasks.get(taskId);
      if (!task) throw new Rejection('not-found', `no task ${taskId}`);
      this.auth.assertMay(socket.data.manager, task.branchId);
      return { task: await this.tasks.cancel(taskId, `manager:${socket.data.manager}`) };
    });
  }

  @SubscribeMessage('ackAlert')
  ackAlert(@MessageBody() body: unknown, @ConnectedSocket() socket: DashboardSocket): Promise<CommandAnswer> {
    return this.answer(socket, async () => {
      const { alertId } = parseOrReject(ackAlertCommand, body ?? {});
      const alert = await this.alerts.get(alertId);
      if (!alert) throw new Rejection('not-found', `no alert ${alertId}`);
      this.auth.assertMay(socket.data.manager, alert.branchId);
      return { alert: await this.alerts.acknowledge(alertId, socket.data.manager) };
    });
  }

  @SubscribeMessage('pausePromotions')
  pausePromotions(@MessageBody() body: unknown, @ConnectedSocket() socket: DashboardSocket): Promise<CommandAnswer> {
    return this.answer(socket, async () => {
      const { branchId, minutes } = parseOrReject(pausePromotionsCommand, body ?? {});
      this.auth.assertMay(socket.data.manager, branchId);
      const runtime = this.branches.get(branchId);
      this.logger.log(`${socket.data.manager} paused promotions in ${branchId} for ${minutes} min`);
      return { branchId, until: await runtime.pausePromotions(minutes) };
    });
  }

  /** Runs a command for a socket whose token is still valid; an expired one is told so and disconnected. */
  private async answer(socket: DashboardSocket, work: () => Promise<Record<string, unknown>>): Promise<CommandAnswer> {
    if (!this.auth.verify(socket.handshake.auth?.token)) {
      setImmediate(() => socket.disconnect(true));
      return { ok: false, error: 'unauthorized: token expired, log in again' };
    }
    try {
      return { ok: true, ...(await work()) };
    } catch (e) {
      if (e instanceof Rejection) return { ok: false, error: e.message };
      this.logger.error(`dashboard command failed: ${(e as Error).stack}`);
      return { ok: false, error: 'internal error' };
    }
  }

  /** Alerts come from the database (awaited first); the rest is read in one synchronous step just before sending. */
  private async snapshot(mine: string[]): Promise<BranchSnapshot[]> {
    const branches = this.config.branches.filter((b) => mine.includes(b.id));
    const alerts = await Promise.all(branches.map((b) => this.alerts.list(b.id, 'open')));
    const today = new Date(this.clock.now());
    today.setHours(0, 0, 0, 0);
    const appointments = await Promise.all(branches.map((b) => this.appointments.list(b.id, today.toISOString())));
    const uplinks = await Promise.all(branches.map((b) => this.uplink.state(b.id)));
    return branches.map((b, i) => {
      const runtime = this.branches.get(b.id);
      return {
        id: b.id,
        name: b.name,
        devices: this.devices.list(b.id).map((d) => ({ ...d })),
        queues: runtime.model.queues(),
        occupancy: runtime.model.occupancyByZone(),
        posts: runtime.model.postStates(),
        footfall: runtime.model.footfallByHour(),
        tasks: runtime.tasks.openTasks().map((t) => ({ ...t })),
        alerts: alerts[i],
        appointments: appointments[i],
        uplink: uplinks[i],
      };
    });
  }
}
