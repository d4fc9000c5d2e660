/**
 * The commented sluice.yaml for what detect() found. `sluice init` writes it; `sluice serve`
 * without a config parses it (secrets stay `${VAR}` references, read at start).
 */
import type { Detection } from './detect.js';

/** A small instruct model that runs on a laptop CPU (~400 MB, Apache-2.0). */
export const defaultLocalModel = 'Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf';

const q = (s: string): string => JSON.stringify(s);
/** A quoted value with `${` doubled, so a file named `a${X}.gguf` is not read as a variable (keys never are). */
const literal = (s: string): string => JSON.stringify(s.replaceAll('${', () => '$${')); // a function: in a replacement string "$$" means "$"

/** A YAML scalar: plain when safe, else JSON-quoted (YAML reads JSON strings as they are). */
function scalar(value: string): string {
  return /^[\w./:${}-]+$/.test(value) && !/^\d/.test(value) ? value : q(value);
}

export function renderConfig(detection: Detection, modelsDir: string): string {
  const lines = [
    '# sluice.yaml, written by `sluice init` from what it found on this machine.',
    '# Reference: README, "Config reference". Secrets stay in the environment: ${VAR} is read at start.',
    '',
    'host: 127.0.0.1',
    'port: 8080',
    '',
    '# Usage ledger, keys and budgets: an embedded SQLite file (postgres://... for many instances).',
    'store: sqlite:data/sluice.db',
    '',
  ];
  if (detection.providers.length === 0) {
    lines.push(
      '# No provider found: set OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, DEEPSEEK_API_KEY,',
      `# OPENROUTER_API_KEY, GROQ_API_KEY or OLLAMA_HOST, or put a GGUF model in ${modelsDir}`,
      `# (npx sluice pull ${defaultLocalModel}), then run \`sluice init --force\` again. By hand:`,
      '#',
      '# providers:',
      '#   openai:',
      '#     kind: openai',
      '#     base_url: https://api.openai.com/v1',
      '#     api_key: ${OPENAI_API_KEY}',
      '# models:',
      '#   gpt-4o-mini:',
      '#     routes: [openai/gpt-4o-mini]',
      'providers: {}',
      'models: {}',
    );
  } else {
    lines.push('providers:');
    for (const provider of detection.providers) {
      lines.push(`  # ${provider.reason}`, `  ${provider.name}:`);
      for (const [key, value] of provider.fields) lines.push(`    ${key}: ${scalar(value)}`);
      if (provider.fields.some(([key, value]) => key === 'kind' && value === 'local')) {
        lines.push(
          '    # threads: 4        # CPU threads per model; default: half the cores',
          '    # sequences: 1      # requests generated at once per model; more wait in a queue',
          '    # context_size: 8192',
        );
      }
    }
    lines.push('', '# The names clients send as "model", each routed to provider/upstream-model.', 'models:');
    for (const provider of detection.providers) {
      for (const model of provider.models) lines.push(`  ${q(model.name)}:`, `    routes: [${literal(`${provider.name}/${model.upstream}`)}]`);
    }
  }
  lines.push(
    '',
    '# Client keys. None: Sluice serves without authentication, on loopback only.',
    '# keys:',
    '#   - name: me',
    '#     key: ${SLUICE_CLIENT_KEY}',
    '',
  );
  return lines.join('\n');
}
