/**
 * Redis for the limits tests: the shared server at 127.0.0.1:6379 (a unique key prefix per run,
 * its keys deleted afterwards), and private servers a test may kill and restart (outages).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const SHARED_REDIS = process.env.SLUICE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export function uniquePrefix(): string {
  return `sluice-test-${randomUUID().slice(0, 8)}:`;
}

/** Deletes every key under `prefix` on `url`. */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A direct connection for tests that inspect what Sluice stored. */
export function inspector(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1 });
}

/** A throwaway redis-server on a random port, without persistence, that can be stopped and started again. */
export class PrivateRedis {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  /** On a random high port; another one if that port is taken. */
  static async start(): Promise<PrivateRedis> {
    for (let attempt = 0; ; attempt++) {
      const redis = new PrivateRedis(20_000 + Math.floor(Math.random() * 40_000));
      try {
        await redis.start();
        return redis;
      } catch (error) {
        if (attempt >= 5) throw error;
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 5000);
      child.stdout?.on('data', (data: Buffer) => {
        output += data.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}): ${output}`));
      });
    });
    child.stdout?.resume();
  }

  /** Freezes the server (SIGSTOP): connections stay open, commands time out. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills the server at once (SIGKILL: an outage, not a shutdown). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }
}
