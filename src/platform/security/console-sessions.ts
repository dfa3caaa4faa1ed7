import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../database/pg-pool.js';
import { ApiKeys } from './api-keys.js';
import type { Principal } from './principal.js';

/** The console's cookie: a random id, HttpOnly and SameSite=Strict, never readable by the page's script. */
export const SESSION_COOKIE = 'crossdock_session';
/** The header that carries a session's CSRF token on every request that changes something. */
export const CSRF_HEADER = 'x-csrf-token';

export interface ConsoleSession {
  principal: Principal;
  csrfToken: string;
  expiresAt: Date;
}

export interface ConsoleSessionSettings {
  /** How long a session lasts without a request. */
  idleMinutes: number;
  /** How long a session lasts at most. */
  maxHours: number;
}

export const CONSOLE_SESSION_SETTINGS = Symbol('CONSOLE_SESSION_SETTINGS');
export type ConsoleSessionOptions = ConsoleSessionSettings & { adminToken: string };

const OPS_SCOPES = ['ops:read', 'ops:write'];
const TOUCH_EVERY_MS = 60_000;

/**
 * Sessions of people signed in to the console with the admin token or an operator's key: the token is checked
 * once, at sign-in, and never stored; the browser keeps only the session's random id, the table only its hash.
 * An operator's session ends with the key it was opened with: revoking the key ends it at once.
 */
@Injectable()
export class ConsoleSessions {
  private readonly adminTokenHash: Buffer;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly apiKeys: ApiKeys,
    @Inject(CONSOLE_SESSION_SETTINGS) private readonly settings: ConsoleSessionOptions,
  ) {
    this.adminTokenHash = sha256(settings.adminToken);
  }

  /** Signs in with a token: the admin token, or an operator's key with an ops scope; the session id, or why not. */
  async open(token: string, actor?: string): Promise<{ sessionId: string; session: ConsoleSession } | { refused: string }> {
    let principal: Principal;
    let keyId: string | null = null;
    if (timingSafeEqual(sha256(token), this.adminTokenHash)) {
      principal = { type: 'admin', actor: actor ? `admin:${actor}` : 'admin' };
    } else {
      const key = await this.apiKeys.authenticate(token);
      if (!key) return { refused: 'The token is not valid or has been revoked' };
      if (key.type !== 'operator' || !key.scopes.some((s) => OPS_SCOPES.includes(s))) return { refused: 'The console is for operators: sign in with an operator key (ops:read or ops:write) or the admin token' };
      principal = key;
      keyId = key.keyId;
    }
    const sessionId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const { rows } = await this.pool.query<{ expires_at: string | Date }>(
      `insert into console_session (id_hash, principal, key_id, csrf_token, expires_at)
       values ($1, $2, $3, $4, clock_timestamp() + least($5 * interval '1 minute', $6 * interval '1 hour'))
       returning expires_at`,
      [sha256(sessionId), JSON.stringify(principal), keyId, csrfToken, this.settings.idleMinutes, this.settings.maxHours],
    );
    return { sessionId, session: { principal, csrfToken, expiresAt: new Date(rows[0]!.expires_at) } };
  }

  /** The live session of a cookie's id, its idle expiry pushed on (at most once a minute), or undefined. */
  async resolve(sessionId: string): Promise<ConsoleSession | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(sessionId)) return undefined;
    const { rows } = await this.pool.query<{ principal: Principal; csrf_token: string; expires_at: string | Date; last_seen_at: string | Date; revoked: boolean }>(
      `select s.principal, s.csrf_token, s.expires_at, s.last_seen_at, coalesce(k.revoked_at is not null, false) as revoked
         from console_session s left join api_key k on k.id = s.key_id
        where s.id_hash = $1 and s.expires_at > clock_timestamp()`,
      [sha256(sessionId)],
    );
    const row = rows[0];
    if (!row || row.revoked) return undefined;
    let expiresAt = new Date(row.expires_at);
    if (Date.now() - new Date(row.last_seen_at).getTime() > TOUCH_EVERY_MS) {
      const touched = await this.pool.query<{ expires_at: string | Date }>(
        `update console_session set last_seen_at = clock_timestamp(),
                expires_at = least(clock_timestamp() + $2 * interval '1 minute', created_at + $3 * interval '1 hour')
          where id_hash = $1 returning expires_at`,
        [sha256(sessionId), this.settings.idleMinutes, this.settings.maxHours],
      );
      expiresAt = touched.rows[0] ? new Date(touched.rows[0].expires_at) : expiresAt;
    }
    return { principal: row.principal, csrfToken: row.csrf_token, expiresAt };
  }

  async close(sessionId: string): Promise<void> {
    await this.pool.query('delete from console_session where id_hash = $1', [sha256(sessionId)]);
  }
}

/** A cookie's value from a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** True when the presented CSRF token is the session's (compared in constant time). */
export function csrfMatches(session: ConsoleSession, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
