import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import bcrypt from 'bcryptjs';
import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { Repository } from 'typeorm';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig, ManagerConfig } from '../config/config.schema.js';
import { SettingRecord } from '../persistence/entities.js';

/** A shift and a bit: the tablet logs in once a day. */
const TOKEN_TTL_MS = 12 * 3600_000;
const SECRET_KEY = 'token-secret';

/** `scrypt:<salt hex>:<key hex>` (N=16384, r=8, p=1, 64-byte key), what `npm run hash-password` prints. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt:${salt.toString('hex')}:${scryptSync(password, salt, 64).toString('hex')}`;
}

function verifyPassword(m: ManagerConfig, password: string): boolean {
  const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
  if (m.password !== undefined) return same(Buffer.from(password), Buffer.from(m.password));
  const hash = m.passwordHash!;
  if (hash.startsWith('scrypt:')) {
    const [, salt, key] = hash.split(':');
    return same(scryptSync(password, Buffer.from(salt, 'hex'), key.length / 2), Buffer.from(key, 'hex'));
  }
  if (/^\$2[aby]\$/.test(hash)) return bcrypt.compareSync(password, hash);
  return false;
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
    @InjectRepository(SettingRecord) private readonly settings: Repository<SettingRecord>,
  ) {}

  async onModuleInit(): Promise<void> {
    let row = await this.settings.findOneBy({ key: SECRET_KEY });
    if (!row) {
      await this.settings.createQueryBuilder().insert().values({ key: SECRET_KEY, value: randomBytes(32).toString('hex') }).orIgnore().execute();
      row = await this.settings.findOneByOrFail({ key: SECRET_KEY });
    }
    this.secret = Buffer.from(row.value, 'hex');
  }

  /** A token for valid credentials, else null. */
  login(username: string, password: string): string | null {
    const manager = this.config.managers.find((m) => m.username === username);
    if (!manager || !verifyPassword(manager, password)) return null;
    const body = Buffer.from(JSON.stringify({ sub: username, exp: Date.now() + TOKEN_TTL_MS })).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** The manager's username for a valid, unexpired token, else null. */
  verify(token: unknown): string | null {
    if (typeof token !== 'string') return null;
    const [body, sig] = token.split('.');
    if (!body || !sig) return null;
    const expected = Buffer.from(this.sign(body));
    if (expected.length !== sig.length || !timingSafeEqual(expected, Buffer.from(sig))) return null;
    try {
      const { sub, exp } = JSON.parse(Buffer.from(body, 'base64url').toString());
      return typeof sub === 'string' && typeof exp === 'number' && exp > Date.now() && this.config.managers.some((m) => m.username === sub) ? sub : null;
    } catch {
      return null;
    }
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}
