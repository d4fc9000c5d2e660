/**
 * `sluice init [--force]`: writes a commented sluice.yaml from what this machine has (providers
 * from the usual environment variables, an Ollama server, GGUF files in ./models).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { detect } from './detect.js';
import { firstRunModelsDir } from './first-run.js';
import { defaultLocalModel, renderConfig } from './init-config.js';

export interface InitArgs {
  argv: string[];
  env: Record<string, string | undefined>;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

export async function runInit(args: InitArgs): Promise<number> {
  const { values } = parseArgs({ args: args.argv, options: { force: { type: 'boolean' }, config: { type: 'string' } } });
  const path = values.config ?? 'sluice.yaml';
  if (existsSync(path) && values.force !== true) {
    args.stderr(`sluice init: ${path} exists; pass --force to replace it.`);
    return 1;
  }
  const detection = await detect({ env: args.env, modelsDir: firstRunModelsDir });
  await writeFile(path, renderConfig(detection, firstRunModelsDir));
  const found = detection.providers.map((p) => `${p.name} (${p.reason}; ${p.models.length} model${p.models.length === 1 ? '' : 's'})`);
  args.stdout(`Wrote ${path}: ${found.length === 0 ? 'no provider found yet' : found.join(', ')}.`);
  for (const note of detection.notes) args.stdout(`note: ${note}`);
  if (found.length === 0) args.stdout(`Next: set a provider's API key, or npx sluice pull ${defaultLocalModel}, then sluice init --force.`);
  args.stdout(`Check it with \`sluice check --config ${path}\`, start with \`npm start\` (or \`sluice serve\`).`);
  return 0;
}
