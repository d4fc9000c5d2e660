/**
 * What a first run can serve without a config: providers whose usual environment variables are
 * set (with their well-known models), an Ollama server (asked for its models), and every GGUF
 * file in ./models as a local model. `sluice init` writes the same as a commented sluice.yaml;
 * `sluice serve` without a config parses that text, so both always agree.
 */
import { readdir } from 'node:fs/promises';
import { innermostMessage } from './error-message.js';

export interface DetectedModel {
  /** The public model name clients use. */
  name: string;
  upstream: string;
}

export interface DetectedProvider {
  name: string;
  /** Why it is there, for the YAML comment and the banner ("OPENAI_API_KEY is set"). */
  reason: string;
  /** The provider's YAML fields after its name (kind first), secrets as ${VAR}. */
  fields: [string, string][];
  models: DetectedModel[];
}

export interface Detection {
  providers: DetectedProvider[];
  /** Things worth telling the operator (an Ollama that did not answer...). */
  notes: string[];
}

interface KnownProvider {
  name: string;
  envVar: string;
  fields: [string, string][];
  models: string[];
}

/** Well-known hosted providers and a few of their current models. */
const knownProviders: KnownProvider[] = [
  { name: 'openai', envVar: 'OPENAI_API_KEY', fields: [['kind', 'openai'], ['base_url', 'https://api.openai.com/v1']], models: ['gpt-4.1', 'gpt-4.1-mini', 'gpt-4o', 'gpt-4o-mini', 'o4-mini'] },
  { name: 'anthropic', envVar: 'ANTHROPIC_API_KEY', fields: [['kind', 'anthropic']], models: ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'] },
  { name: 'gemini', envVar: 'GEMINI_API_KEY', fields: [['kind', 'gemini']], models: ['gemini-2.5-pro', 'gemini-2.5-flash'] },
  { name: 'deepseek', envVar: 'DEEPSEEK_API_KEY', fields: [['kind', 'openai'], ['base_url', 'https://api.deepseek.com/v1'], ['reasoning_field', 'reasoning_content']], models: ['deepseek-chat', 'deepseek-reasoner'] },
  { name: 'openrouter', envVar: 'OPENROUTER_API_KEY', fields: [['kind', 'openai'], ['base_url', 'https://openrouter.ai/api/v1']], models: ['openrouter/auto'] },
  { name: 'groq', envVar: 'GROQ_API_KEY', fields: [['kind', 'openai'], ['base_url', 'https://api.groq.com/openai/v1']], models: ['llama-3.3-70b-versatile', 'llama-3.1-8b-instant'] },
];

export interface DetectOptions {
  env: Record<string, string | undefined>;
  /** The folder GGUF files are served from (./models). */
  modelsDir: string;
  /** How long Ollama gets to list its models. */
  ollamaTimeoutMs?: number;
}

export async function detect(options: DetectOptions): Promise<Detection> {
  const { env } = options;
  const providers: DetectedProvider[] = [];
  const notes: string[] = [];
  const taken = new Set<string>();
  const add = (provider: DetectedProvider): void => {
    // A model name two providers offer goes to the first; the other keeps it under provider/name.
    const models = provider.models.map((m) => (taken.has(m.name) ? { ...m, name: `${provider.name}/${m.name}` } : m));
    for (const m of models) taken.add(m.name);
    providers.push({ ...provider, models });
  };
  for (const known of knownProviders) {
    if ((env[known.envVar] ?? '') === '') continue;
    add({
      name: known.name,
      reason: `${known.envVar} is set`,
      fields: [...known.fields, ['api_key', `\${${known.envVar}}`]],
      models: known.models.map((name) => ({ name, upstream: name })),
    });
  }
  const ollamaHost = env.OLLAMA_HOST;
  let origin: string | undefined;
  try {
    origin = ollamaHost === undefined || ollamaHost === '' ? undefined : ollamaOrigin(ollamaHost);
  } catch {
    notes.push(`OLLAMA_HOST=${JSON.stringify(ollamaHost)} is not a host:port or URL; Ollama's models are not served.`);
  }
  if (origin !== undefined) {
    const listed = await ollamaModels(origin, options.ollamaTimeoutMs ?? 1500);
    if (typeof listed === 'string') notes.push(`Ollama at ${origin} (OLLAMA_HOST) did not list its models (${listed}); start it and restart Sluice to serve them.`);
    else if (listed.length === 0) notes.push(`Ollama at ${origin} has no models yet (ollama pull <model>).`);
    else add({ name: 'ollama', reason: 'OLLAMA_HOST is set', fields: [['kind', 'openai'], ['base_url', `${origin}/v1`]], models: listed.map((name) => ({ name, upstream: name })) });
  }
  const files = await ggufFiles(options.modelsDir);
  if (files.length > 0) {
    add({
      name: 'local',
      reason: `GGUF files in ${options.modelsDir}, run in-process by node-llama-cpp`,
      fields: [['kind', 'local'], ['models_dir', options.modelsDir]],
      models: files.map((file) => ({ name: file.slice(0, -'.gguf'.length), upstream: file })),
    });
  }
  return { providers, notes };
}

/** OLLAMA_HOST is "host:port", "http://host:port" or "0.0.0.0" (its bind address): an origin to call. */
export function ollamaOrigin(host: string): string {
  const withScheme = /^https?:\/\//.test(host) ? host : `http://${host}`;
  const url = new URL(withScheme);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.port === '' && !/^https?:\/\/[^/]+:\d+/.test(withScheme)) url.port = '11434';
  return url.origin;
}

/** Ollama's model names (GET /api/tags), or why they could not be read. */
async function ollamaModels(origin: string, timeoutMs: number): Promise<string[] | string> {
  try {
    const response = await fetch(`${origin}/api/tags`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return `HTTP ${response.status}`;
    const body = (await response.json()) as { models?: { name?: unknown }[] };
    return (body.models ?? []).map((m) => m.name).filter((name): name is string => typeof name === 'string' && name !== '');
  } catch (error) {
    return innermostMessage(error);
  }
}

async function ggufFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith('.gguf') && e.name.length > '.gguf'.length).map((e) => e.name).sort();
}
