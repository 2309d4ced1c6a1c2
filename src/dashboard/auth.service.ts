import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import bcrypt from 'bcryptjs';
import { createHmac, randomBytes, scrypt as scryptCb, scryptSync, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { CLOCK, type Clock } from '../clock/clock.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig, ManagerConfig } from '../config/config.schema.js';
import { Rejection } from '../contracts/rejection.js';
import { SettingRepository } from '../persistence/setting.repository.js';

/** A shift and a bit: the tablet logs in once a day. */
const TOKEN_TTL_MS = 12 * 3600_000;
const SECRET_KEY = 'token-secret';

/** `scrypt:<salt hex>:<key hex>` (N=16384, r=8, p=1, 64-byte key), what `npm run hash-password` prints. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt:${salt.toString('hex')}:${scryptSync(password, salt, 64).toString('hex')}`;
}

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
/**
 * Checked for unknown usernames too, so timing does not tell which names exist: the same scrypt work, against a random
 * key no password gives (hashing a random password here cost every start-up 65–100 ms of blocked main thread).
 */
const DUMMY_HASH = `scrypt:${randomBytes(16).toString('hex')}:${randomBytes(64).toString('hex')}`;

/** Async: a scrypt or bcrypt check takes 40–100 ms and must not stall MQTT, timers and greetings. */
async function verifyPassword(m: ManagerConfig | undefined, password: string): Promise<boolean> {
  const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
  const hash = m ? m.passwordHash : DUMMY_HASH;
  if (m?.password !== undefined) return same(Buffer.from(password), Buffer.from(m.password));
  if (hash!.startsWith('scrypt:')) {
    const [, salt, key] = hash!.split(':');
    const ok = same(await scrypt(password, Buffer.from(salt, 'hex'), key.length / 2), Buffer.from(key, 'hex'));
    return ok && !!m;
  }
  return (await bcrypt.compare(password, hash!)) && !!m;
}

/**
 * Lobby-manager login and bearer tokens: HMAC-signed `{sub, exp}`. The signing secret lives in the
 * database, so tokens survive a restart and are honoured by every hub sharing that database.
 */
@Injectable()
export class AuthService implements OnModuleInit {
  private secret!: Buffer;

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly settings: SettingRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    this.secret = Buffer.from(await this.settings.getOrCreate(SECRET_KEY, () => randomBytes(32).toString('hex')), 'hex');
  }

  /** A token for valid credentials, else null. */
  async login(username: string, password: string): Promise<string | null> {
    const manager = this.config.managers.find((m) => m.username === username);
    if (!(await verifyPassword(manager, password))) return null;
    return this.issue(username);
  }

  /** A signed token for a manager, valid for `ttlMs` of real time (a simulated day at 60× must not log the tablet out). */
  issue(username: string, ttlMs = TOKEN_TTL_MS): string {
    const hubMs = ttlMs * this.config.server.timeScale;
    const body = Buffer.from(JSON.stringify({ sub: username, exp: this.clock.now() + hubMs })).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** The branches a manager may see and command (contract section 6): their `branches`, else all. */
  branchesOf(manager: string): string[] {
    const limited = this.config.managers.find((m) => m.username === manager)?.branches;
    return limited ?? this.config.branches.map((b) => b.id);
  }

  /** Refuses (403) a branch that is not the manager's; an unknown branch is 404. */
  assertMay(manager: string, branchId: string): string {
    if (!this.config.branches.some((b) => b.id === branchId)) throw new Rejection('not-found', `no branch ${branchId}`);
    if (!this.branchesOf(manager).includes(branchId)) throw new Rejection('forbidden', `branch ${branchId} is not one of ${manager}'s branches`);
    return branchId;
  }

  /** The manager's username for a valid, unexpired token, else null. */
  verify(token: unknown): string | null {
    if (typeof token !== 'string') return null;
    const [body, sig] = token.split('.');
    if (!body || !sig) return null;
    // Compare bytes, not characters: a forged signature may hold multi-byte characters.
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const { sub, exp } = JSON.parse(Buffer.from(body, 'base64url').toString());
      return typeof sub === 'string' && typeof exp === 'number' && exp > this.clock.now() && this.config.managers.some((m) => m.username === sub) ? sub : null;
    } catch {
      return null;
    }
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}
