import type { SluiceConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { createProvider } from './create-provider.js';
import type { Provider } from '../providers/provider.js';
import { KeyRing, type ClientKey } from './authenticate.js';
import { handleChatCompletions, handleMessages, type ChatCall, type ChatDeps, type ChatSettings } from './chat-completions.js';
import { handleCountTokens } from './count-tokens.js';
import { composeAdmissions, type Admission } from './admission.js';
import { AdminAuth } from './admin-auth.js';
import { KeyAdmin } from './admin-keys.js';
import { mayUseModel, modelAccess } from './key-model-access.js';
import { BudgetAdmission } from './budget.js';
import { PriceBook, publicPrice, type PublicPrice } from './pricing.js';
import { buildUsageReport, type UsageQuery, type UsageReport } from './usage-report.js';
import type { Store } from '../storage/types.js';
import { LedgerMeter, type LedgerSink } from './ledger-meter.js';
import { LogMeter, type RequestMeter } from './request-record.js';
import { RouteTable, type ModelEntry } from './route-table.js';
import { addModels, healthSettings, retrySettings } from './build-routes.js';
import { createRouting } from './routing.js';
import { isLoopbackHost } from './loopback.js';
import { openLimits, type Limits } from '../limits/open-limits.js';
import { routeLimitsFrom } from '../limits/route-quotas.js';
import { RateLimitAdmission } from './rate-limit-admission.js';
import type { RouteQuota } from './route-quota.js';
import { localOnly, type CooldownBoard } from './cooldown-board.js';

export { sluiceVersion } from './version.js';

export interface AnthropicModel {
  type: 'model';
  id: string;
  display_name: string;
  created_at: string;
  /** Sluice's addition, USD per 1M tokens; only for priced models. */
  pricing?: PublicPrice;
}

export interface OpenAiModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  /** Sluice's addition, USD per 1M tokens; only for priced models. */
  pricing?: PublicPrice;
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
  /** Key management for the admin API; undefined without a store. */
  readonly keyAdmin: KeyAdmin | undefined;
  readonly adminAuth: AdminAuth;
  readonly startedAt = Math.floor(Date.now() / 1000);
  private readonly providers = new Map<string, Provider>();
  private readonly meter: RequestMeter;
  private readonly chatSettings: ChatSettings;
  /** Model access first (free), then what reserves (rate limits, then budgets). */
  private readonly admission: Admission;
  /** Every priced model's price, in integers; costs every request. */
  readonly prices: PriceBook;
  /** Rate limits, route quotas and what Redis shares (budgets, cooldowns, key news). */
  private readonly limits: Limits;
  /** Per-route deployment quotas, for the routing loop. */
  readonly routeQuota: RouteQuota;
  /** Route cooldowns shared with other instances (Redis), or this instance's only. */
  readonly cooldownBoard: CooldownBoard;

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
    this.limits = openLimits({ redisUrl: config.redis, outage: config.redis_outage, logger: options.logger, routeLimits: routeLimitsFrom(config.models) });
    this.routeQuota = this.limits.routeQuotas;
    const shared = this.limits.shared;
    this.cooldownBoard = shared?.cooldowns ?? localOnly;
    const routing = createRouting({
      retries: retrySettings(config.retries),
      health: healthSettings(config.health),
      quota: this.routeQuota,
      cooldowns: this.cooldownBoard,
      logger: options.logger,
    });
    addModels(this.routes, config, { providers: this.providers, routing });
    // Without keys, Sluice serves anyone, which is only acceptable on a loopback address.
    this.keys = new KeyRing({
      configKeys: config.keys, loopback: isLoopbackHost(config.host), store: options.store?.keys, logger: options.logger,
      ...(shared ? { news: shared.keyNews } : {}),
    });
    this.keyAdmin = options.store && new KeyAdmin({ store: options.store.keys, ring: this.keys, configKeyNames: config.keys.map((k) => k.name) });
    this.adminAuth = new AdminAuth(config.admin_key);
    this.prices = new PriceBook(config.models);
    // Budgets belong to stored keys, so they exist only with a store.
    const ledger = options.store?.ledger;
    const budget = ledger && new BudgetAdmission({ ledger, prices: this.prices, logger: options.logger, ...(shared ? { shared } : {}) });
    this.admission = composeAdmissions(modelAccess, new RateLimitAdmission({ limiter: this.limits.limiter }), ...(budget ? [budget] : []));
  }

  /** Loads the stored keys (and follows their changes) and connects to Redis; must finish before serving. */
  async start(): Promise<void> {
    await Promise.all([this.keys.start(), this.limits.start()]);
  }

  /** False only in keyless mode: loopback, no config keys and no stored key at all. */
  get authRequired(): boolean {
    return this.keys.required;
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
      admission: this.admission,
      cost: (record) => this.prices.cost(record),
      meter: this.meter,
      settings: this.chatSettings,
    };
  }

  /** GET /v1/models in OpenAI's list shape. */
  modelList(key?: ClientKey): { object: 'list'; data: OpenAiModel[] } {
    return {
      object: 'list',
      data: this.visibleModels(key).map((m): OpenAiModel => ({ id: m.name, object: 'model', created: this.startedAt, owned_by: 'sluice', ...this.pricingOf(m.name) })),
    };
  }

  /** GET /v1/models in Anthropic's shape, for clients that send `anthropic-version`. */
  anthropicModelList(key?: ClientKey): { data: AnthropicModel[]; has_more: false; first_id: string | null; last_id: string | null } {
    const createdAt = new Date(this.startedAt * 1000).toISOString();
    const data = this.visibleModels(key).map((m): AnthropicModel => ({ type: 'model', id: m.name, display_name: m.name, created_at: createdAt, ...this.pricingOf(m.name) }));
    return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null };
  }

  /** Every model with its price (when it has one), for the public /pricing page. */
  priceList(): Array<{ model: string; pricing: PublicPrice | undefined }> {
    return this.routes.list().map((m) => {
      const price = this.prices.get(m.name);
      return { model: m.name, pricing: price === undefined ? undefined : publicPrice(price) };
    });
  }

  /** GET /admin/usage and `sluice usage`; undefined without a store (nothing is recorded). */
  async usageReport(query: UsageQuery): Promise<UsageReport | undefined> {
    const ledger = this.options.store?.ledger;
    return ledger === undefined ? undefined : buildUsageReport(ledger, query);
  }

  private pricingOf(model: string): { pricing?: PublicPrice } {
    const price = this.prices.get(model);
    return price === undefined ? {} : { pricing: publicPrice(price) };
  }

  /** The models a key may use: a key limited to some models never sees the others. */
  private visibleModels(key: ClientKey | undefined): ModelEntry[] {
    const all = this.routes.list();
    return key === undefined ? all : all.filter((m) => mayUseModel(key, m.name));
  }

  async close(): Promise<void> {
    this.keys.stop();
    await Promise.allSettled([...[...this.providers.values()].map((p) => p.close()), this.limits.close()]);
  }
}
