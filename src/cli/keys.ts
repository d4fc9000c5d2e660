/**
 * `sluice keys create|list|update|revoke`: key management against the store named in the config
 * (the same one `sluice serve` uses), so a running gateway picks the change up within a second.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, defaultConfig, loadConfigFile } from '../config/load-config.js';
import type { SluiceConfig } from '../config/schema.js';
import { GatewayError } from '../core/gateway-error.js';
import { KeyAdmin } from '../gateway/admin-keys.js';
import type { KeyView } from '../gateway/key-view.js';
import type { Store } from '../storage/types.js';
import { keyChangesFromFlags, keyOptions } from './keys-args.js';
import { keyBlock, keysTable } from './keys-table.js';

export interface KeysArgs {
  argv: string[];
  env: Record<string, string | undefined>;
  /** Receive whole lines, each ending in "\n". */
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  openStore: (url: string) => Promise<Store>;
}

export const keysUsage = `Client keys:
  sluice keys create --name NAME [--models a,b] [--budget USD] [--budget-period day|month|total]
                     [--rpm N] [--tpm N] [--max-concurrent N] [--expires 30d|2026-12-31]
                     [--metadata NAME=VALUE ...] [--json]
  sluice keys list [--json]
  sluice keys update <id|name> [the create options; --no-models --no-budget --no-rpm --no-tpm
                     --no-max-concurrent --no-expiry --no-metadata clear them; --metadata NAME= removes one]
  sluice keys revoke <id|name> [--json]
Every subcommand takes --config FILE (the store is the config's \`store:\`, default sqlite:data/sluice.db).
`;

/** Returns the exit code: 0 done, 1 failed (store, unknown key, taken name), 2 bad usage or value. */
export async function runKeys(args: KeysArgs): Promise<number> {
  const [sub, ...rest] = args.argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    (sub === undefined ? args.stderr : args.stdout)(keysUsage);
    return sub === undefined ? 2 : 0;
  }
  if (!['create', 'list', 'update', 'revoke'].includes(sub)) {
    args.stderr(`sluice keys: unknown subcommand "${sub}"\n\n${keysUsage}`);
    return 2;
  }
  let parsed: ReturnType<typeof parseKeyArgs>;
  try {
    parsed = parseKeyArgs(rest);
  } catch (error) {
    args.stderr(`sluice keys ${sub}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const config = await loadConfig(parsed.values.config, args);
  if (config === undefined) return 1;
  let command: (admin: KeyAdmin) => Promise<number>;
  try {
    // Every value is checked before the store is opened: a typo never creates a database file.
    command = prepare(sub, parsed, config, args);
  } catch (error) {
    return report(sub, error, args);
  }
  let store: Store | undefined;
  try {
    store = await args.openStore(config.store); // migrated on open
    return await command(new KeyAdmin({ store: store.keys, configKeyNames: config.keys.map((k) => k.name) }));
  } catch (error) {
    return report(sub, error, args);
  } finally {
    await store?.close().catch(() => {});
  }
}

function parseKeyArgs(argv: string[]) {
  return parseArgs({ args: argv, options: keyOptions, allowPositionals: true, strict: true });
}

/** Validates the subcommand's arguments; the returned function runs it against the store. */
function prepare(sub: string, parsed: ReturnType<typeof parseKeyArgs>, config: SluiceConfig, args: KeysArgs): (admin: KeyAdmin) => Promise<number> {
  const { values, positionals } = parsed;
  if (sub === 'list' || sub === 'revoke') {
    const stray = Object.keys(values).find((flag) => flag !== 'config' && flag !== 'json');
    if (stray !== undefined) throw new GatewayError('invalid_request', `--${stray} does not apply to \`sluice keys ${sub}\``);
  }
  const json = values.json === true;
  const knownModels = Object.keys(config.models);
  const print = (key: KeyView, secret?: string): void => args.stdout(json ? `${JSON.stringify(secret === undefined ? key : { ...key, secret }, null, 2)}\n` : keyBlock(key, secret));
  const ref = (): string => {
    const [first, ...extra] = positionals;
    if (first === undefined || extra.length > 0) throw new GatewayError('invalid_request', `expected one key id or name, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
    return first;
  };
  switch (sub) {
    case 'create': {
      if (positionals.length > 0) throw new GatewayError('invalid_request', `unexpected argument "${positionals[0]}" (the name goes in --name)`);
      const changes = keyChangesFromFlags(values, { mode: 'create', knownModels, now: Date.now() });
      return async (admin) => {
        const { key, secret } = await admin.create(changes);
        if (!json) args.stdout(`Created key "${key.name}":\n`);
        print(key, secret);
        args.stderr('Save the secret now: it will not be shown again (Sluice stores only its hash).\n');
        return 0;
      };
    }
    case 'list': {
      if (positionals.length > 0) throw new GatewayError('invalid_request', `unexpected argument "${positionals[0]}"`);
      return async (admin) => {
        const keys = await admin.list();
        args.stdout(json ? `${JSON.stringify(keys, null, 2)}\n` : keysTable(keys));
        return 0;
      };
    }
    case 'update': {
      const target = ref();
      const changes = keyChangesFromFlags(values, { mode: 'update', knownModels, now: Date.now() });
      if (Object.keys(changes).length === 0) throw new GatewayError('invalid_request', 'nothing to update: give at least one option (see sluice keys --help)');
      return async (admin) => {
        const key = await admin.update(target, changes);
        if (!json) args.stdout(`Updated key "${key.name}":\n`);
        print(key);
        return 0;
      };
    }
    default: {
      const target = ref();
      return async (admin) => {
        const key = await admin.revoke(target);
        if (!json) args.stdout(`Revoked key "${key.name}" (${key.id}); a running Sluice refuses it within a second.\n`);
        else print(key);
        return 0;
      };
    }
  }
}

async function loadConfig(flag: string | undefined, args: KeysArgs): Promise<SluiceConfig | undefined> {
  const path = flag ?? args.env.SLUICE_CONFIG ?? (existsSync('sluice.yaml') ? 'sluice.yaml' : undefined);
  try {
    return path === undefined ? defaultConfig() : await loadConfigFile(path, args.env);
  } catch (error) {
    args.stderr(`${error instanceof ConfigError ? error.message : `sluice keys: ${String(error)}`}\n`);
    return undefined;
  }
}

/** Bad values are usage errors (2); an unknown key, a taken name or a store failure is 1. */
function report(sub: string, error: unknown, args: KeysArgs): number {
  if (error instanceof GatewayError) {
    args.stderr(`sluice keys ${sub}: ${error.message}\n`);
    return error.code === 'invalid_request' ? 2 : 1;
  }
  args.stderr(`sluice keys ${sub}: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}
