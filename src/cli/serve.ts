import { existsSync } from 'node:fs';
import { ConfigError, loadConfigFile } from '../config/load-config.js';
import { routeLabel, type SluiceConfig } from '../config/schema.js';
import { isLoopbackHost } from '../gateway/loopback.js';
import { sluiceVersion } from '../gateway/gateway.js';
import { createLogger, isLogLevel } from '../observability/logger.js';
import { startServer } from '../server/start-server.js';
import { holdYoungGeneration } from '../runtime/heap-flags.js';
import { adminKeyFile, firstRunConfig } from './first-run.js';
import { defaultLocalModel } from './init-config.js';

export interface ServeArgs {
  configPath: string | undefined;
  host: string | undefined;
  port: string | undefined;
  env: Record<string, string | undefined>;
  stderr: (line: string) => void;
}

/** `sluice serve`: load the config, refuse unsafe set-ups, listen, and stop cleanly on a signal. */
export async function runServe(args: ServeArgs): Promise<number> {
  const { env, stderr } = args;
  const configPath = args.configPath ?? env.SLUICE_CONFIG ?? (existsSync('sluice.yaml') ? 'sluice.yaml' : undefined);
  let config: SluiceConfig;
  let notes: string[] = [];
  try {
    if (configPath === undefined) ({ config, notes } = await firstRunConfig(env));
    else config = await loadConfigFile(configPath, env);
  } catch (error) {
    stderr(error instanceof ConfigError ? error.message : `sluice: ${String(error)}`);
    return 1;
  }
  const port = args.port ?? env.PORT;
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      stderr(`sluice: invalid port "${port}"`);
      return 2;
    }
    config = { ...config, port: n };
  }
  if (args.host !== undefined) config = { ...config, host: args.host };
  holdYoungGeneration();
  const levelName = env.SLUICE_LOG_LEVEL ?? config.log_level;
  const logger = createLogger(isLogLevel(levelName) ? levelName : config.log_level);
  const running = await startServer(config, logger).catch((error: unknown) => {
    // Opening the store (and replaying its ledger journal) comes before listening.
    stderr(`sluice: cannot start on ${config.host}:${config.port} with store ${describeStore(config.store)}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  });
  if (running === undefined) return 1;
  // Stored keys are only known once the store is open. Until this check passes nobody can use the
  // gateway anyway: off loopback, every request needs a key.
  if (!isLoopbackHost(config.host) && config.keys.length === 0 && running.gateway.keys.storedKeyCount === 0 && config.admin_key === undefined) {
    stderr(
      `sluice: refusing to start: no client keys exist (none in the config, none in the store) and ${config.host} is not a loopback address, ` +
        'so nobody could use it. Add `keys:` to the config, create one with `sluice keys create`, set `admin_key` to create them through the API, or bind to 127.0.0.1.',
    );
    await running.close(0);
    return 1;
  }

  // Every request path handles its own errors; should one slip through, one request fails, not
  // every stream in flight.
  process.on('unhandledRejection', (reason) => logger.error('unhandled rejection', { error: reason }));
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info('shutting down', { signal, graceMs: config.shutdown_grace });
      void running.close().then(resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    // Announced only once a signal stops it cleanly: a supervisor reacting to the banner at once
    // must not hit the default action (an instant exit without shutdown).
    stderr(banner({ config, url: running.url, configPath, storedKeys: running.gateway.keys.storedKeyCount, notes }));
    logger.info('listening', { url: running.url, version: sluiceVersion });
  });
  return 0;
}

interface BannerFacts {
  config: SluiceConfig;
  url: string;
  configPath: string | undefined;
  storedKeys: number;
  notes: string[];
}

/** What an operator needs to start: where Sluice listens, what it serves, how to call it. */
function banner({ config, url, configPath, storedKeys, notes }: BannerFacts): string {
  const models = Object.entries(config.models);
  const lines = [`Sluice ${sluiceVersion} listening on ${url}`, `  config: ${configPath ?? '(none: serving what this machine has; `sluice init` writes it to sluice.yaml)'}`];
  if (models.length === 0) {
    lines.push(
      '  models: none yet. Sluice is running, but has nothing to serve. Either:',
      `    - pull a small local model (~400 MB), then restart: npx sluice pull ${defaultLocalModel}`,
      '    - or set OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, DEEPSEEK_API_KEY, OPENROUTER_API_KEY, GROQ_API_KEY or OLLAMA_HOST and restart',
      '    - or write sluice.yaml (README: "Config reference"; `sluice init` starts one)',
    );
  } else {
    lines.push('  models:');
    for (const [name, m] of models) lines.push(`    ${name} -> ${m.routes.map(routeLabel).join(', ')}`);
  }
  const keyless = config.keys.length === 0 && storedKeys === 0;
  lines.push(
    keyless
      ? '  auth: none. No client keys are configured, so Sluice serves without authentication (loopback only) until one is created.'
      : `  auth: ${config.keys.length} config key(s), ${storedKeys} stored key(s); send Authorization: Bearer <key>`,
  );
  if (configPath === undefined && config.admin_key !== undefined) lines.push(`  admin key: in ${adminKeyFile} (Authorization: Bearer <it> on /admin/*); client keys: sluice keys create --name <name>`);
  for (const note of notes) lines.push(`  note: ${note}`);
  // A local model answers without any key or network: the best first try when there is one.
  const local = models.find(([, m]) => m.routes.some((r) => config.providers[routeLabel(r).split('/')[0] ?? '']?.kind === 'local'));
  const first = (local ?? models[0])?.[0];
  if (first !== undefined) {
    const auth = keyless ? '' : " -H 'Authorization: Bearer <key>'";
    const body = JSON.stringify({ model: first, stream: true, messages: [{ role: 'user', content: 'Say hello!' }] });
    lines.push('  try it:', `    curl -N ${url}/v1/chat/completions -H 'content-type: application/json'${auth} -d '${body.replaceAll("'", "'\\''")}'`);
  }
  return lines.join('\n');
}

/** The store URL without a password, for messages. */
function describeStore(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
