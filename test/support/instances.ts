/**
 * Several Sluice processes as an operator runs them behind a load balancer: the real bin, one
 * config, one PostgreSQL schema and one Redis key prefix shared by all, each on its own port.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deletePrefix, SHARED_REDIS, uniquePrefix } from '../../src/limits/test-support/redis.js';

const bin = resolve(import.meta.dirname, '..', '..', 'bin', 'sluice.js');

export const REDIS_URL = SHARED_REDIS;

export interface Instance {
  url: string;
  child: ChildProcessWithoutNullStreams;
  /** What the process wrote to stderr so far (banner, warnings). */
  stderr(): string;
}

export interface Cluster {
  instances: Instance[];
  /** The Redis key prefix every instance uses. */
  prefix: string;
  stop(): Promise<void>;
}

/** Starts `count` instances of the real bin with the same config text. */
export async function startCluster(count: number, configText: (prefix: string) => string): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cluster-'));
  const prefix = uniquePrefix();
  const config = join(dir, 'sluice.yaml');
  writeFileSync(config, configText(prefix));
  const instances: Instance[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(instances.map((i) => stopChild(i.child)));
    await deletePrefix(REDIS_URL, prefix).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let n = 0; n < count; n++) {
      // Separate working folders: each instance keeps its own ledger journal.
      const cwd = join(dir, `instance-${n}`);
      const child = spawn(process.execPath, [bin, 'serve', '--config', config, '--port', '0'], {
        cwd: mkdirp(cwd),
        env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' },
      });
      const started = await banner(child);
      instances.push({ url: started.url, child, stderr: started.stderr });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { instances, prefix, stop };
}

function mkdirp(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

function banner(child: ChildProcessWithoutNullStreams): Promise<{ url: string; stderr: () => string }> {
  let text = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => void (text += chunk));
  child.stdout.resume();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start banner within 15 s: ${text}`)), 15_000);
    const onData = (): void => {
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stderr.off('data', onData);
        resolve({ url: match[1], stderr: () => text });
      }
    };
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`instance exited (code ${code}) before listening: ${text}`));
    });
  });
}

async function stopChild(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
