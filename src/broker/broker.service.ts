import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Aedes, type AedesPublishPacket, type AuthenticateError, type Client } from 'aedes';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { CLOCK, dateOf, type Clock } from '../clock/clock.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import { indexDevices, type DeviceEntry } from '../config/directory.js';
import { topics } from '../contracts/topics.js';
import { DeviceRepository } from '../devices/device.repository.js';
import { HubEvents } from '../hub-events.js';
import { KeyedQueue } from '../keyed-queue.js';
import { MetricsService } from '../observability/metrics.service.js';
import { mayPublish, maySubscribe } from './device-access.js';
import { listen } from './listen.js';
import { HubPersistence } from './retained-persistence.js';

/**
 * Takes a publish from an authenticated device, after the ACL let it through. It must take the message into its
 * branch's turns before it first awaits: that keeps a device's messages in order.
 */
/** Returns the handling's promise, or nothing when it is over already (the message was dropped). */
export type DevicePublishHandler = (packet: AedesPublishPacket, deviceId: string) => Promise<void> | void;

const NOT_AUTHORIZED = 5; // MQTT 3.1.1 CONNACK return code 5
const WS_PATH = '/mqtt';

/**
 * The embedded MQTT broker (aedes) on TCP and on WebSocket at /mqtt of the HTTP server: authentication
 * by device secret, the ACL of contract section 3, presence from the broker's own connection events,
 * and the one port through which the hub publishes. Nothing else touches aedes, and nothing else
 * publishes presence.
 */
@Injectable()
export class BrokerService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(BrokerService.name);
  private readonly devices: Map<string, DeviceEntry>;
  private aedes!: Aedes;
  private tcp?: NetServer;
  private tls?: NetServer;
  private wss?: WebSocketServer;
  private httpServer?: HttpServer;
  /** The live connection per device: presence is keyed on it, so a stale close cannot mark a reconnected device offline. */
  private readonly connections = new Map<string, Client>();
  /** Devices in `connections` per branch, kept as they come and go: counting them per connect was O(connected). */
  private readonly connectedPerBranch = new Map<string, number>();
  private onDevicePublish: DevicePublishHandler = () => {};
  /** Presence work still running; shutdown waits for it so nothing is lost. */
  private readonly pending = new Set<Promise<void>>();
  /** Connections between CONNACK and ready, each with what ends its wait in `pending`. */
  private readonly connecting = new Map<Client, () => void>();
  /**
   * Device messages being handled. aedes hands over the packets of one socket read without waiting, in the order they
   * came; the handler takes each into its branch's turns before it first awaits, so they are handled in that order.
   */
  private readonly handling = new Set<Promise<void>>();
  private readonly presenceOrder = new KeyedQueue();
  private stopping = false;

  constructor(
    @Inject(HUB_CONFIG) config: HubConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly events: HubEvents,
    private readonly metrics: MetricsService,
    private readonly stored: DeviceRepository,
  ) {
    this.devices = indexDevices(config);
  }

  async onModuleInit(): Promise<void> {
    this.aedes = await Aedes.createBroker({
      maxClientsIdLength: 64,
      // The stock in-memory persistence, but its retained lookup on SUBSCRIBE no longer scans every device's presence.
      persistence: new HubPersistence(),
      preConnect: (client, _packet, done) => {
        // Nagle + delayed ACK held each QoS 1 command ~40 ms on this machine (design.md, Known traps).
        (client.conn as Partial<Socket>).setNoDelay?.(true);
        done(null, true);
      },
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => done(client && !mayPublish(this.devices, client.id, packet.topic) ? this.deny('publish', client, packet.topic) : null),
      authorizeSubscribe: (client, sub, done) => done(null, maySubscribe(this.devices, client.id, sub.topic) ? sub : this.deny('subscribe', client, sub.topic) && null),
      published: (packet, client, done) => {
        if (!client || !this.devices.has(client.id)) return done();
        // aedes has already sent a QoS 1 PUBACK; it reads the device's next packets once these are handled.
        let handling: Promise<void> | void;
        try {
          handling = this.onDevicePublish(packet, client.id);
        } catch (e) {
          handling = Promise.reject(e as Error);
        }
        if (!handling) return done();
        const finished = () => {
          this.handling.delete(handled);
          done();
        };
        const handled: Promise<void> = handling.then(finished, (e: unknown) => {
          this.logger.error(`handling ${packet.topic} failed: ${(e as Error).stack}`);
          finished();
        });
        this.handling.add(handled);
      },
    });
    // CONNACK is sent between 'client' and 'clientReady' (aedes' connect steps): a device may already act on it.
    this.aedes.on('client', (client) => this.track(new Promise((ready) => this.connecting.set(client, ready))));
    this.aedes.on('clientReady', (client) => {
      this.track(this.connected(client));
      this.accepted(client);
    });
    this.aedes.on('clientDisconnect', (client) => {
      this.track(this.disconnected(client));
      this.accepted(client);
    });
    this.aedes.on('clientError', (client, err) => this.logger.debug(`client ${client?.id}: ${err.message}`));
    this.aedes.on('connectionError', (client, err) => this.logger.debug(`connection ${client?.id}: ${err.message}`));
  }

  /**
   * Nobody is connected yet: every device's retained presence says offline, since it was last seen
   * going (or since now, for one that was connected when the hub stopped).
   */
  async onApplicationBootstrap(): Promise<void> {
    const last = new Map((await this.stored.all()).map((r) => [r.id, r]));
    const now = dateOf(this.clock).toISOString();
    // All at once: one after another, each waited for aedes' round of callbacks (10,000 devices: ~0.2 s of start-up).
    await Promise.all(
      [...this.devices.values()].map(({ branch, device }) => {
        const r = last.get(device.id);
        const since = r && !r.online && r.since ? r.since : now;
        return this.publish(topics.presence(branch.id, device.id), { online: false, since }, { qos: 1, retain: true });
      }),
    );
  }

  /** Where device publishes go (ingest). */
  setDevicePublishHandler(handler: DevicePublishHandler): void {
    this.onDevicePublish = handler;
  }

  /** Listens for MQTT over TCP. Resolves with the bound port (0 picks a free one). */
  listenTcp(port: number, host?: string): Promise<number> {
    // No Nagle: a command or an ack is one small packet, and waiting for the peer's delayed ACK costs up to 40 ms each way.
    this.tcp = createServer({ noDelay: true }, (socket) => this.aedes.handle(socket));
    return listen(this.tcp, 'MQTT', 'HUB_MQTT_PORT', port, host);
  }

  /** Listens for MQTT over TLS (contract section 1, `HUB_MQTTS_PORT`) with the hub's certificate. Resolves with the bound port. */
  listenTls(port: number, tls: TlsOptions, host?: string): Promise<number> {
    this.tls = createTlsServer(tls, (socket) => {
      socket.setNoDelay(true);
      this.aedes.handle(socket);
    });
    // A client that fails the handshake (no trust, plain MQTT on this port) never reaches the broker: nothing to do.
    this.tls.on('tlsClientError', () => undefined);
    return listen(this.tls, 'MQTTS', 'HUB_MQTTS_PORT', port, host);
  }

  /** Serves MQTT over WebSocket at /mqtt on the hub's HTTP server; other upgrades (Socket.IO) are left alone. */
  attachWebSocket(httpServer: HttpServer): void {
    this.httpServer = httpServer;
    this.wss = new WebSocketServer({ noServer: true });
    httpServer.on('upgrade', this.onUpgrade);
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Compare the raw path: `new URL()` throws on request targets such as `//`, and this runs on any upgrade.
    if (!this.wss || (req.url ?? '').split('?')[0] !== WS_PATH) return;
    (socket as Socket).setNoDelay?.(true);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.aedes.handle(createWebSocketStream(ws), req));
  };

  /**
   * The hub's one way out to devices. Once the broker has closed (the hub is stopping) nobody is connected and retained
   * messages end with the process: what the last turns publish is dropped, not an error that would cut those turns
   * short. A restart re-publishes presences and summaries, and a command that never left is timed out like one to an
   * offline device.
   */
  publish(topic: string, payload: unknown, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    if (this.aedes.closed) {
      this.logger.debug(`stopping: ${topic} not published`);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) =>
      this.aedes.publish(
        { cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(payload)), qos: opts.qos ?? 0, retain: opts.retain ?? false, dup: false },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }

  /** Resolves when every device message, connection and presence change received so far has been handled. */
  async settled(): Promise<void> {
    do await Promise.all([...this.pending, ...this.handling, this.presenceOrder.drain()]);
    while (this.pending.size); // a connection accepted meanwhile became a presence change
  }

  /** The connection's presence change is under way (or it closed before it was ready). */
  private accepted(client: Client): void {
    this.connecting.get(client)?.();
    this.connecting.delete(client);
  }

  isOnline(deviceId: string): boolean {
    return this.connections.has(deviceId);
  }

  get connectedCount(): number {
    return this.connections.size;
  }

  get ready(): boolean {
    return !!this.tcp?.listening && !this.aedes.closed;
  }

  async onModuleDestroy(): Promise<void> {
    this.httpServer?.off('upgrade', this.onUpgrade);
    // Devices are dropped because the hub stops, not because they left: their work stays theirs
    // (start-up gives each one ack timeout to come back).
    this.stopping = true;
    // Broker first, then its servers: the other order hangs `server.close()` on open MQTT sockets.
    if (this.aedes && !this.aedes.closed) await new Promise<void>((r) => this.aedes.close(() => r()));
    // Finish what devices already sent before the database goes away.
    await Promise.all([...this.pending, ...this.handling]);
    this.wss?.close();
    for (const server of [this.tcp, this.tls]) if (server?.listening) await new Promise<void>((r) => server.close(() => r()));
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    // client.id is aedes' generated id when the CONNECT had none; device ids cannot look like that.
    const entry = this.devices.get(client.id);
    const secret = entry ? Buffer.from(entry.device.secret) : undefined;
    const ok = !!secret && username === client.id && !!password && password.length === secret.length && timingSafeEqual(password, secret);
    if (ok) return done(null, true);
    this.metrics.refusedConnections.inc();
    this.logger.warn(`refused MQTT connection of "${client.id}": unknown device or wrong secret`);
    done(Object.assign(new Error('not authorized'), { returnCode: NOT_AUTHORIZED }) as AuthenticateError, false);
  }

  private deny(action: 'publish' | 'subscribe', client: Client, topic: string): Error {
    this.metrics.aclDenied.inc({ action });
    this.logger.warn(`ACL refused ${action} of "${client.id}" to "${topic}"`);
    return new Error(`not authorized to ${action} ${topic}`);
  }

  private track(work: Promise<void>): void {
    const p = work.catch((e) => this.logger.error(`presence: ${(e as Error).stack}`)).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async connected(client: Client): Promise<void> {
    const entry = this.devices.get(client.id);
    if (!entry) return;
    if (!this.connections.has(client.id)) this.countConnected(entry.branch.id, 1);
    this.connections.set(client.id, client);
    await this.presence(entry, true);
  }

  private async disconnected(client: Client): Promise<void> {
    const entry = this.devices.get(client.id);
    // A take-over reconnect can report the old socket's close after the new one is ready: ignore it.
    if (!entry || this.connections.get(client.id) !== client) return;
    this.connections.delete(client.id);
    this.countConnected(entry.branch.id, -1);
    if (this.stopping) return;
    await this.presence(entry, false);
  }

  private countConnected(branchId: string, delta: number): void {
    this.connectedPerBranch.set(branchId, (this.connectedPerBranch.get(branchId) ?? 0) + delta);
  }

  /**
   * Tells the hub, then publishes retained presence: whoever sees the retained message finds the
   * registry already saying the same. One device's changes run one at a time, in the broker's order.
   */
  private presence(entry: DeviceEntry, online: boolean): Promise<void> {
    const since = dateOf(this.clock);
    const branchId = entry.branch.id;
    this.metrics.connectedDevices.set({ branch: branchId }, this.connectedPerBranch.get(branchId) ?? 0);
    return this.presenceOrder.run(entry.device.id, async () => {
      await this.events.emit('presence', { branchId, deviceId: entry.device.id, online, since });
      await this.publish(topics.presence(branchId, entry.device.id), { online, since: since.toISOString() }, { qos: 1, retain: true });
    });
  }
}
