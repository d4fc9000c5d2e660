/**
 * `sluice serve` with no config at all: serve what this machine has (detect.ts), keep the
 * embedded store in ./data, and give the admin API a key of its own in ./data/admin-key, made
 * once, readable by the owner only.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfigText } from '../config/load-config.js';
import type { SluiceConfig } from '../config/schema.js';
import { detect } from './detect.js';
import { renderConfig } from './init-config.js';

export const firstRunModelsDir = './models';
export const adminKeyFile = join('data', 'admin-key');

export interface FirstRun {
  config: SluiceConfig;
  notes: string[];
}

export async function firstRunConfig(env: Record<string, string | undefined>): Promise<FirstRun> {
  const detection = await detect({ env, modelsDir: firstRunModelsDir });
  const config = parseConfigText(renderConfig(detection, firstRunModelsDir), '<detected>', env);
  return { config: { ...config, admin_key: await adminKey() }, notes: detection.notes };
}

async function adminKey(): Promise<string> {
  const existing = (await readFile(adminKeyFile, 'utf8').catch(() => '')).trim();
  if (existing.length >= 16) return existing;
  const key = `sk-admin-${randomBytes(24).toString('base64url')}`;
  await mkdir('data', { recursive: true });
  await writeFile(adminKeyFile, `${key}\n`, { mode: 0o600 });
  return key;
}
