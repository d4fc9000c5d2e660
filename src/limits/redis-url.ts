import type { RedisOptions } from 'ioredis';

export interface RedisTarget {
  /** Connection options (host, port, db, credentials, TLS for rediss://). */
  connection: RedisOptions;
  /** Prepended to every key and channel, so several deployments (or test runs) share a server. */
  prefix: string;
  /** The URL without its password, for logs. */
  display: string;
}

export const DEFAULT_PREFIX = 'sluice:';

/** `redis://[user:pass@]host[:port][/db][?prefix=name:]`; `rediss://` for TLS. */
export function parseRedisUrl(url: string): RedisTarget {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new Error(`expected a redis:// or rediss:// URL, got ${parsed.protocol}`);
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new Error(`the database in a Redis URL is a number (redis://host:6379/0), got "${dbText}"`);
  const connection: RedisOptions = {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    db,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  const prefix = parsed.searchParams.get('prefix') ?? DEFAULT_PREFIX;
  const shown = new URL(url);
  if (shown.password) shown.password = '***';
  return { connection, prefix, display: shown.toString() };
}
