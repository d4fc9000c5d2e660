/**
 * `sluice check --config FILE`: validates a config without starting the gateway, so a deploy
 * pipeline can reject a broken config before it reaches a running server.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, formatProblem, loadConfigFile } from '../config/load-config.js';
import { parseRoute, routeLabel, type SluiceConfig } from '../config/schema.js';

export interface CheckArgs {
  configPath: string;
  env: Record<string, string | undefined>;
  /** Receive whole lines, each ending in "\n" (write-style, like process.stdout.write). */
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Returns the exit code: 0 with a summary on stdout, 1 with every problem on stderr. */
export async function runCheck(args: CheckArgs): Promise<number> {
  try {
    const config = await loadConfigFile(args.configPath, args.env);
    const missing = missingLocalModels(config);
    if (missing.length > 0) {
      for (const line of missing) args.stderr(`${args.configPath}: ${line}\n`);
      return 1;
    }
    const summary = [
      count(Object.keys(config.providers).length, 'provider'),
      count(Object.keys(config.models).length, 'model'),
      count(config.keys.length, 'key'),
    ].join(', ');
    args.stdout(`${args.configPath}: OK (${summary})\n`);
    return 0;
  } catch (error) {
    // Anything else is a bug in Sluice, not in the config: let it surface with its stack.
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) args.stderr(`${formatProblem(problem)}\n`);
    return 1;
  }
}

/** Routes to a `kind: local` provider whose .gguf file is not in its models_dir (relative to the working directory, as for serve). */
function missingLocalModels(config: SluiceConfig): string[] {
  const problems: string[] = [];
  for (const [name, model] of Object.entries(config.models)) {
    for (const entry of model.routes) {
      const route = parseRoute(routeLabel(entry));
      const provider = config.providers[route.provider];
      if (provider?.kind !== 'local') continue;
      const file = resolve(provider.models_dir, route.model);
      if (!existsSync(file)) problems.push(`models.${name}: route ${routeLabel(entry)}: no file ${file} (sluice pull <owner>/<repo>/<file>.gguf --dir ${provider.models_dir})`);
    }
  }
  return problems;
}
