import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { ProviderConfig } from '../config/schema.js';
import { LocalProvider } from '../providers/local/local-provider.js';
import { AnthropicProvider } from '../providers/anthropic.js';
import { GeminiProvider } from '../providers/gemini.js';
import { OpenAiCompatibleProvider } from '../providers/openai-compatible.js';
import type { Provider } from '../providers/provider.js';
import { sluiceVersion } from './version.js';

/** One adapter per provider entry of the config, by its `kind`. */
export function createProvider(name: string, config: ProviderConfig): Provider {
  const timeouts = { connectMs: config.timeouts.connect, firstTokenMs: config.timeouts.first_token, idleMs: config.timeouts.idle };
  if (config.kind === 'local') {
    return new LocalProvider({
      name,
      modelsDir: resolve(config.models_dir),
      threads: config.threads ?? Math.max(1, Math.floor(availableParallelism() / 2)),
      contextSize: config.context_size,
      sequences: config.sequences,
      maxQueue: config.queue,
      gpu: config.gpu,
      timeouts,
    });
  }
  const common = {
    name,
    baseUrl: config.base_url,
    apiKey: config.api_key,
    headers: config.headers,
    maxConnections: config.max_connections,
    timeouts,
    userAgent: `sluice/${sluiceVersion}`,
  };
  switch (config.kind) {
    case 'openai':
      return new OpenAiCompatibleProvider({
        ...common,
        sendStreamOptions: config.send_stream_options,
        reasoningField: config.reasoning_field,
        maxTokensField: config.max_tokens_field,
      });
    case 'anthropic':
      return new AnthropicProvider({ ...common, anthropicVersion: config.anthropic_version, defaultMaxTokens: config.default_max_tokens });
    case 'gemini':
      return new GeminiProvider(common);
  }
}
