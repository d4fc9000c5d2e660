import { parseArgs } from 'node:util';
import { sluiceVersion } from '../gateway/gateway.js';
import { openStore } from '../storage/open-store.js';
import { runCheck } from './check.js';
import { keysUsage, runKeys } from './keys.js';
import { runInit } from './init.js';
import { runPull } from './pull.js';
import { runServe } from './serve.js';
import { runUsage } from './usage.js';

const usage = `Sluice ${sluiceVersion}: an LLM API gateway (OpenAI and Anthropic protocols).

Usage:
  sluice serve [--config FILE] [--host H] [--port N]   start the gateway
  sluice check --config FILE                           validate a config file
  sluice init [--force]                                write a commented sluice.yaml from what this machine has
  sluice keys create|list|update|revoke ...            manage client keys (sluice keys --help)
  sluice usage [--from D] [--to D] [--key K] [--model M] [--group-by day|model|key] [--json]
                                                       spending from the usage ledger (sluice usage --help)
  sluice pull <owner>/<repo>/<file>.gguf | <url> [--dir DIR]
                                                       download a local model (sluice pull --help)
  sluice --version | --help

${keysUsage}
Config: --config, else $SLUICE_CONFIG, else ./sluice.yaml when present, else what this machine has
(providers from OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, DEEPSEEK_API_KEY, OPENROUTER_API_KEY,
GROQ_API_KEY, OLLAMA_HOST; GGUF files in ./models as local models).
Environment: PORT (listen port), SLUICE_LOG_LEVEL (debug|info|warn|error|silent).
`;

/** Entry point of the `sluice` command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const print = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  const printError = (s: string): void => void process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
  try {
    switch (command) {
      case 'serve': {
        const { values } = parseArgs({ args: rest, options: { config: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' } } });
        return await runServe({ configPath: values.config, host: values.host, port: values.port, env: process.env, stderr: printError });
      }
      case 'check': {
        const { values } = parseArgs({ args: rest, options: { config: { type: 'string' } } });
        const configPath = values.config ?? process.env.SLUICE_CONFIG ?? 'sluice.yaml';
        return await runCheck({ configPath, env: process.env, stdout: print, stderr: printError });
      }
      case 'keys':
        return await runKeys({ argv: rest, env: process.env, stdout: print, stderr: printError, openStore });
      case 'init':
        return await runInit({ argv: rest, env: process.env, stdout: print, stderr: printError });
      case 'pull':
        return await runPull({ argv: rest, env: process.env, stderr: printError, progress: { write: (text) => void process.stderr.write(text), isTTY: process.stderr.isTTY === true } });
      case 'usage':
        return await runUsage({ argv: rest, env: process.env, stdout: print, stderr: printError, openStore });
      case '--version':
      case '-v':
        print(sluiceVersion);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        print(usage);
        return command === undefined ? 2 : 0;
      default:
        printError(`sluice: unknown command "${command}"\n\n${usage}`);
        return 2;
    }
  } catch (error) {
    // parseArgs rejects unknown flags; say so plainly instead of with a stack trace.
    printError(`sluice: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}
