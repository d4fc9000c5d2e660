import type { SluiceConfig } from '../config/schema.js';
import { parseRoute } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { createProvider } from './create-provider.js';
import type { Provider } from '../providers/provider.js';
import { KeyRing, type ClientKey } from './authenticate.js';
import { handleChatCompletions, handleMessages, type ChatCall, type ChatDeps, type ChatSettings } from './chat-completions.js';
import { handleCountTokens } from './count-tokens.js';
import { openAdmission } from './admission.js';
import type { Store } from '../storage/types.js';
import { LedgerMeter, type LedgerSink } from './ledger-meter.js';
import { LogMeter, type RequestMeter } from './request-record.js';
import { RouteTable } from './route-table.js';
import { isLoopbackHost } from './loopback.js';

export { sluiceVersion } from './version.js';

export interface AnthropicModel {
  type: 'model';
  id: string;
  display_name: string;
  created_at: string;
}

export interface GatewayOptions {
  config: SluiceConfig;
  logger: Logger;
  /** Where request records go besides the ledger (default: the log). */
  meter?: RequestMeter;
  /** Keys and the usage ledger; absent only in unit tests that need neither. */
  store?: Store;
  /** The usage ledger's writer (journaled, batched). */
  ledger?: LedgerSink;
}

/**
 * Everything a running Sluice needs, built once from the config: providers with their connection
 * pools, the route table, the key ring. The HTTP server calls into it; it knows no HTTP itself.
 */
export class Gateway {
  readonly routes = new RouteTable();
  readonly keys: KeyRing;
  readonly authRequired: boolean;
  readonly startedAt = Math.floor(Date.now() / 1000);
  private readonly providers = new Map<string, Provider>();
  private readonly meter: RequestMeter;
  private readonly chatSettings: ChatSettings;

  constructor(private readonly options: GatewayOptions) {
    const { config } = options;
    const next = options.meter ?? new LogMeter(options.logger);
    this.meter = options.ledger ? new LedgerMeter(options.ledger, next) : next;
    this.chatSettings = {
      firstByteDeadlineMs: config.streaming.first_byte_deadline,
      keepAliveIntervalMs: config.streaming.keepalive_interval,
      maxEventBytes: config.streaming.max_event_size,
      maxResponseBytes: 64 * 1024 * 1024,
    };
    for (const [name, provider] of Object.entries(config.providers)) this.providers.set(name, createProvider(name, provider));
    for (const [name, model] of Object.entries(config.models)) {
      const routes = model.routes.map((label) => {
        const { provider, model: upstreamModel } = parseRoute(label);
        const adapter = this.providers.get(provider);
        if (adapter === undefined) throw new Error(`model ${name}: route ${label} names an unknown provider`);
        return { provider: adapter, upstreamModel, label };
      });
      this.routes.add({ name, routes });
    }
    // Without keys, Sluice serves anyone, which is only acceptable on a loopback address.
    this.authRequired = config.keys.length > 0 || !isLoopbackHost(config.host);
    this.keys = new KeyRing(config.keys, this.authRequired);
  }

  get config(): SluiceConfig {
    return this.options.config;
  }

  get logger(): Logger {
    return this.options.logger;
  }

  get store(): Store | undefined {
    return this.options.store;
  }

  authenticate(headers: Record<string, string | string[] | undefined>): ClientKey {
    return this.keys.authenticate(headers);
  }

  chatCompletions(call: ChatCall): Promise<void> {
    return handleChatCompletions(call, this.chatDeps());
  }

  messages(call: ChatCall): Promise<void> {
    return handleMessages(call, this.chatDeps());
  }

  countTokens(call: ChatCall): Promise<void> {
    return handleCountTokens(call, this.chatDeps());
  }

  private chatDeps(): ChatDeps {
    return {
      keys: this.keys,
      routes: this.routes,
      admission: openAdmission,
      cost: () => ({ costNanoUsd: 0, priceVersion: undefined }),
      meter: this.meter,
      settings: this.chatSettings,
    };
  }

  /** GET /v1/models in OpenAI's list shape. */
  modelList(): { object: 'list'; data: { id: string; object: 'model'; created: number; owned_by: string }[] } {
    return {
      object: 'list',
      data: this.routes.list().map((m) => ({ id: m.name, object: 'model', created: this.startedAt, owned_by: 'sluice' })),
    };
  }

  /** GET /v1/models in Anthropic's shape, for clients that send `anthropic-version`. */
  anthropicModelList(): { data: AnthropicModel[]; has_more: false; first_id: string | null; last_id: string | null } {
    const createdAt = new Date(this.startedAt * 1000).toISOString();
    const data = this.routes.list().map((m): AnthropicModel => ({ type: 'model', id: m.name, display_name: m.name, created_at: createdAt }));
    return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.providers.values()].map((p) => p.close()));
  }
}
