import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run by its SHA-1 (EVALSHA: the text crosses the wire once per server), falling
 * back to EVAL when the server does not know it yet (NOSCRIPT: first use, a restart, SCRIPT
 * FLUSH), which also caches it there for the next EVALSHA.
 */
export class RedisScript {
  readonly sha: string;

  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}

/** A script's reply as integers (Lua numbers come back as Redis integers). */
export function integers(reply: unknown): number[] {
  if (!Array.isArray(reply)) throw new Error(`unexpected reply from a Redis script: ${JSON.stringify(reply)}`);
  return reply.map((v) => Number(v));
}
