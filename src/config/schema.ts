/**
 * The shape of sluice.yaml. Keys stay snake_case in the parsed types so that what an operator
 * reads in the file is what a developer reads in code. Every object is strict: a misspelt key
 * is an error, not a silently ignored setting.
 *
 * One schema object per concern (server, streaming, cors, providers, models, keys) so later
 * sections (store, redis, admin_key, prices, limits) are added without touching the others.
 */
import { z } from 'zod';
import { integerBetween, parseDuration, parseSize, sizes, type Parsed } from './units.js';
import { isObject } from '../core/json.js';
import { LOG_LEVELS } from '../observability/logger.js';

/** Wraps a units.ts parser so its operator-facing message becomes the issue message. */
function scalar<T>(parse: (input: unknown) => Parsed<T>) {
  return z.unknown().transform((input, ctx): T => {
    const result = parse(input);
    if (result.ok) return result.value;
    ctx.issues.push({ code: 'custom', message: result.message, input });
    return z.NEVER;
  });
}

/**
 * `streaming:` with nothing under it (every line commented out) parses as null; treat that as
 * "not given" so the defaults apply instead of a type error.
 */
function section<S extends z.ZodType>(schema: S) {
  return z.preprocess((value) => (value === null ? undefined : value), schema);
}

const nonEmpty = () => z.string().min(1, { error: 'must not be empty' });


export const streamingSchema = z.strictObject({
  // After this long without a first token, SSE headers and keep-alives go out anyway.
  first_byte_deadline: scalar(parseDuration).default(2000),
  keepalive_interval: scalar(parseDuration)
    .refine((ms) => ms >= 100, { error: 'must be at least 100ms (a keep-alive per tick would flood the client)' })
    .default(15_000),
  max_event_size: scalar(parseSize).default(8 * sizes.MiB),
});

const originPattern = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+$/i;

export const corsSchema = z.strictObject({
  // Unset: every origin when client keys are required; none in keyless (loopback) mode, where a
  // web page could otherwise spend the operator's credit through the user's browser.
  allow_origins: z
    .array(
      z.string().refine((s) => s === '*' || originPattern.test(s), {
        // A browser's Origin header never has a path or trailing slash, so such an entry never matches.
        error: 'expected "*" or an origin like "https://example.com" (scheme, host and optional port; no path)',
      }),
    )
    .optional(),
});

// RFC 9110 token characters: anything else makes the upstream request fail at send time.
const headerNamePattern = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const httpUrl = z.string().transform((raw, ctx): string => {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  const ok = url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:');
  if (!ok) {
    ctx.issues.push({
      code: 'custom',
      message: `expected an http(s) URL like "https://api.openai.com/v1", got ${JSON.stringify(raw)}`,
      input: raw,
    });
    return z.NEVER;
  }
  if (url?.search || url?.hash) {
    // Request paths are appended to the base URL, which a query or fragment would break.
    ctx.issues.push({ code: 'custom', message: 'must not contain a query string or fragment', input: raw });
    return z.NEVER;
  }
  return raw.replace(/\/+$/, '');
});

/**
 * How long an upstream may take, per phase. `first_token` runs from sending the request to the
 * first content (reasoning models can think for minutes); `idle` is the longest silence after
 * it. 0 disables a limit.
 */
export const timeoutsSchema = z.strictObject({
  connect: scalar(parseDuration).default(10_000),
  first_token: scalar(parseDuration).default(600_000),
  idle: scalar(parseDuration).default(300_000),
  // The whole attempt, a committed stream included. Off by default: first_token and idle already
  // catch a stalled upstream, and a long answer that keeps flowing is not a fault.
  total: scalar(parseDuration).default(0),
});

/** A route's own timeouts: each key given overrides the provider's. */
const routeTimeoutsSchema = z.strictObject({
  connect: scalar(parseDuration).optional(),
  first_token: scalar(parseDuration).optional(),
  idle: scalar(parseDuration).optional(),
  total: scalar(parseDuration).optional(),
});

/** Fields every provider kind will share, whatever protocol it speaks. */
const providerCommon = {
  // An empty value (e.g. `${OPENAI_API_KEY:-}`) means "no key", so a key can be optional per deployment.
  api_key: z
    .string()
    .transform((key) => (key === '' ? undefined : key))
    .optional(),
  headers: section(
    z
      .record(
        z.string().regex(headerNamePattern, { error: 'is not a valid HTTP header name' }),
        z.string().refine((v) => !/[\r\n]/.test(v), { error: 'must not contain line breaks' }),
      )
      .default(() => ({})),
  ),
  max_connections: scalar(integerBetween(1, 65_535)).default(256),
  timeouts: section(timeoutsSchema.prefault({})),
};

/** Any OpenAI-compatible server (OpenAI itself, vLLM, llama.cpp, OpenRouter, ...). */
export const openaiProviderSchema = z.strictObject({
  kind: z.literal('openai'),
  base_url: httpUrl,
  ...providerCommon,
  // Quirk: the field name the upstream uses for reasoning text in assistant messages.
  reasoning_field: z.enum(['reasoning_content', 'reasoning']).optional(),
  // Quirk: some servers reject `stream_options`, without which usage in streams is lost.
  send_stream_options: z.boolean().default(true),
  // Quirk: the output limit field in translated requests. Every OpenAI-compatible server takes
  // max_tokens; OpenAI's reasoning models only take max_completion_tokens.
  max_tokens_field: z.enum(['max_tokens', 'max_completion_tokens']).default('max_tokens'),
});

/** Anthropic's Messages API (or a server that speaks it). */
export const anthropicProviderSchema = z.strictObject({
  kind: z.literal('anthropic'),
  base_url: httpUrl.default('https://api.anthropic.com'),
  ...providerCommon,
  anthropic_version: nonEmpty().default('2023-06-01'),
  // The Messages API requires max_tokens; used when an OpenAI client sends none.
  default_max_tokens: scalar(integerBetween(1, 10_000_000)).default(4096),
});

/** Google's Gemini API (generativelanguage.googleapis.com). */
export const geminiProviderSchema = z.strictObject({
  kind: z.literal('gemini'),
  base_url: httpUrl.default('https://generativelanguage.googleapis.com/v1beta'),
  ...providerCommon,
});

/** GGUF models run in-process by node-llama-cpp; routes are "<provider>/<file>.gguf". */
export const localProviderSchema = z.strictObject({
  kind: z.literal('local'),
  // Relative to the working directory, like the SQLite path.
  models_dir: nonEmpty().default('./models'),
  // CPU threads per model; unset: half the cores (at least 1). More threads than free cores
  // makes llama.cpp's spinning barriers collapse throughput (100x measured on 2 cores with 4).
  threads: scalar(integerBetween(1, 1024)).optional(),
  // Tokens per sequence (prompt and answer); unset: what the model was trained for, as memory allows.
  context_size: scalar(integerBetween(64, 10_000_000)).optional(),
  // Requests generated at once per model; each more waits in the queue.
  sequences: scalar(integerBetween(1, 256)).default(1),
  // Requests that may wait for a free sequence; past that: 429 with Retry-After: 1.
  queue: scalar(integerBetween(0, 100_000)).default(32),
  // auto: CUDA, Vulkan or Metal when present, else CPU; false: CPU only.
  gpu: z.union([z.literal('auto'), z.literal(false)]).default('auto'),
  timeouts: section(timeoutsSchema.prefault({})),
});

export const providerSchema = z.discriminatedUnion('kind', [openaiProviderSchema, anthropicProviderSchema, geminiProviderSchema, localProviderSchema]);

export const PROVIDER_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

const providerName = z.string().regex(PROVIDER_NAME_PATTERN, {
  // No "/" because routes split "<provider>/<model>" at the first "/".
  error: 'provider names may only contain letters, digits, "_", "." and "-"',
});

/** Splits a route at the first "/", so the upstream model may itself contain "/". */
function splitRoute(route: string): { provider: string; model: string } | undefined {
  const slash = route.indexOf('/');
  if (slash <= 0 || slash === route.length - 1) return undefined;
  return { provider: route.slice(0, slash), model: route.slice(slash + 1) };
}

/** Parses "<provider>/<upstream model>"; throws on a malformed route (validated configs never hold one). */
export function parseRoute(route: string): { provider: string; model: string } {
  const parsed = splitRoute(route);
  if (parsed === undefined) throw new Error(`invalid route ${JSON.stringify(route)}: expected "<provider>/<model>"`);
  return parsed;
}

const routeSchema = z.string().refine((route) => splitRoute(route) !== undefined, {
  error: 'expected a route like "openai/gpt-4o" ("<provider>/<upstream model>")',
});

/** USD per 1M tokens; up to 6 decimals are kept exactly (costs are computed in integers). */
const pricePerMillion = z.number().min(0, { error: 'must not be negative' }).max(1_000_000);

export const priceSchema = z.strictObject({
  input: pricePerMillion,
  output: pricePerMillion,
  // Unset: cached input is priced as ordinary input.
  cache_read: pricePerMillion.optional(),
  cache_write: pricePerMillion.optional(),
});

/** A route with its settings; a plain "<provider>/<model>" string is the same with the defaults. */
export const routeEntrySchema = z.strictObject({
  route: routeSchema,
  // For the weighted strategy; 0 = only when the weighted routes have failed.
  weight: z.number().min(0, { error: 'must not be negative' }).max(1_000_000).default(1),
  // The deployment's own limits, requests and tokens per minute (prompt estimate + max output).
  rpm: scalar(integerBetween(1, 1_000_000_000)).optional(),
  tpm: scalar(integerBetween(1, 1_000_000_000_000)).optional(),
  timeouts: routeTimeoutsSchema.optional(),
});

export const ROUTE_STRATEGIES = ['fallback', 'weighted', 'least_in_flight', 'lowest_latency'] as const;

export const modelSchema = z.strictObject({
  routes: z.array(z.union([routeSchema, routeEntrySchema])).min(1, { error: 'must list at least one route' }),
  // How the routes are ordered for each request; unset: fallback (in the order listed).
  strategy: z.enum(ROUTE_STRATEGIES).optional(),
  price: priceSchema.optional(),
});

/** A model's route as written (string or mapping), as a label "<provider>/<upstream model>". */
export function routeLabel(entry: string | RouteEntryConfig): string {
  return typeof entry === 'string' ? entry : entry.route;
}

/** How a request is retried before its commit point (README: "Routing, retries and health"). */
export const retriesSchema = z
  .strictObject({
    // Upstream calls per request, across all its routes.
    max_attempts: scalar(integerBetween(1, 100)).default(4),
    initial_backoff: scalar(parseDuration).default(200),
    max_backoff: scalar(parseDuration).default(8000),
    // An upstream asking to wait longer than this is not waited for: the next route is tried.
    max_retry_after: scalar(parseDuration).default(60_000),
    // No attempt starts later than this after the request arrived; 0 = no deadline.
    deadline: scalar(parseDuration).default(120_000),
  })
  .refine((r) => r.max_backoff >= r.initial_backoff, { error: 'max_backoff must not be below initial_backoff', path: ['max_backoff'] });

/** The circuit breaker per route (README: "Routing, retries and health"). */
export const healthSchema = z
  .strictObject({
    // Consecutive failures that open a route's breaker; 0 turns the breaker off.
    failure_threshold: scalar(integerBetween(0, 1000)).default(3),
    cooldown: scalar(parseDuration).default(30_000),
    max_cooldown: scalar(parseDuration).default(300_000),
  })
  .refine((h) => h.max_cooldown >= h.cooldown, { error: 'max_cooldown must not be below cooldown', path: ['max_cooldown'] });

/** A rate limit: a positive whole number (requests, tokens, concurrent requests). */
const limit = () => scalar(integerBetween(1, Number.MAX_SAFE_INTEGER)).optional();

export const keySchema = z.strictObject({
  name: nonEmpty(),
  key: z.string().min(8, { error: 'must be at least 8 characters long' }),
  // Per-key limits (see README "Limits and Redis"); unset: none.
  rpm: limit(),
  tpm: limit(),
  max_concurrent: limit(),
});

export const configSchema = z
  .strictObject({
    host: nonEmpty().default('127.0.0.1'),
    port: scalar(integerBetween(0, 65_535)).default(8080),
    max_request_size: scalar(parseSize).default(10 * sizes.MiB),
    log_level: z.enum(LOG_LEVELS).default('info'),
    streaming: section(streamingSchema.prefault({})),
    shutdown_grace: scalar(parseDuration).default(10_000),
    cors: section(corsSchema.prefault({})),
    providers: section(z.record(providerName, providerSchema).default(() => ({}))),
    models: section(z.record(nonEmpty(), modelSchema).default(() => ({}))),
    keys: section(z.array(keySchema).default(() => [])),
    retries: section(retriesSchema.prefault({})),
    health: section(healthSchema.prefault({})),
    // sqlite:<path> (the default, embedded), postgres://... (shared by many instances), memory.
    store: z
      .string()
      .refine((s) => s === 'memory' || s.startsWith('sqlite:') || /^postgres(?:ql)?:\/\//.test(s), {
        error: 'expected "sqlite:<path>", "postgres://user@host:port/db" or "memory"',
      })
      .default('sqlite:data/sluice.db'),
    // Shared rate limits, budget counters, route cooldowns and key news: redis[s]://host:port/db
    // (?prefix=name: namespaces the keys; default "sluice:"). Unset: each instance in memory.
    redis: z
      .string()
      .refine((s) => /^rediss?:\/\/[^/?#]+/.test(s), { error: 'expected a URL like "redis://127.0.0.1:6379/0"' })
      .optional(),
    // While Redis is unreachable: open = each instance enforces limits and budgets from memory;
    // closed = requests that need them get 503.
    redis_outage: z.enum(['open', 'closed']).default('open'),
    // Where usage rows are journaled before they reach the store. Unset: beside the SQLite file,
    // else ./data/ledger-journal. Instances on one host need one each (the folder is locked).
    ledger_journal: nonEmpty().optional(),
    // Bearer token for /admin/*; unset: the admin API is off.
    admin_key: z.string().min(16, { error: 'must be at least 16 characters long' }).optional(),
  })
  // `when` makes the cross-field checks run even if other parts failed, so every problem is
  // reported in one go; the check therefore inspects the value defensively.
  .superRefine((value, ctx) => {
    for (const issue of crossFieldIssues(value)) ctx.issues.push({ code: 'custom', input: value, ...issue });
  }, { when: () => true });

export type SluiceConfig = z.output<typeof configSchema>;
export type StreamingConfig = z.output<typeof streamingSchema>;
export type CorsConfig = z.output<typeof corsSchema>;
export type ProviderConfig = z.output<typeof providerSchema>;
export type OpenAIProviderConfig = z.output<typeof openaiProviderSchema>;
export type ModelConfig = z.output<typeof modelSchema>;
export type RouteEntryConfig = z.output<typeof routeEntrySchema>;
export type RouteStrategyName = (typeof ROUTE_STRATEGIES)[number];
export type RetriesConfig = z.output<typeof retriesSchema>;
export type HealthConfig = z.output<typeof healthSchema>;
export type TimeoutsConfig = z.output<typeof timeoutsSchema>;
export type KeyConfig = z.output<typeof keySchema>;
export type PriceConfig = z.output<typeof priceSchema>;


interface CrossFieldIssue {
  path: (string | number)[];
  message: string;
}

/** Checks that span sections: routes name defined providers; key names and secrets are unique. */
export function crossFieldIssues(value: unknown): CrossFieldIssue[] {
  const issues: CrossFieldIssue[] = [];
  if (!isObject(value)) return issues;
  const { providers, models, keys } = value;
  if (isObject(providers) && isObject(models)) {
    const defined = Object.keys(providers).join(', ') || 'none';
    for (const [name, model] of Object.entries(models)) {
      if (!isObject(model) || !Array.isArray(model.routes)) continue;
      model.routes.forEach((entry: unknown, i) => {
        const route = isObject(entry) ? entry.route : entry;
        // A malformed route is reported by the route schema itself.
        if (typeof route !== 'string') return;
        const parsed = splitRoute(route);
        if (parsed === undefined || Object.hasOwn(providers, parsed.provider)) return;
        issues.push({
          path: isObject(entry) ? ['models', name, 'routes', i, 'route'] : ['models', name, 'routes', i],
          message: `route "${route}" names provider "${parsed.provider}", which is not defined in providers (defined: ${defined})`,
        });
      });
    }
  }
  if (Array.isArray(keys)) {
    const names = new Map<string, number>();
    const secrets = new Map<string, number>();
    keys.forEach((entry: unknown, i) => {
      if (!isObject(entry)) return;
      const { name, key } = entry;
      if (typeof name === 'string' && name !== '') {
        const first = names.get(name);
        if (first === undefined) names.set(name, i);
        else issues.push({ path: ['keys', i, 'name'], message: `duplicate key name "${name}" (already used by keys[${first}])` });
      }
      if (typeof key === 'string' && key !== '') {
        const first = secrets.get(key);
        // The secret itself is never echoed: problems end up in logs and CI output.
        if (first === undefined) secrets.set(key, i);
        else issues.push({ path: ['keys', i, 'key'], message: `same secret as keys[${first}]; every key needs its own secret` });
      }
    });
    // A client key that is also the admin key would open the admin API to that client.
    const adminKey = value.admin_key;
    if (typeof adminKey === 'string' && secrets.has(adminKey)) {
      issues.push({ path: ['admin_key'], message: `must differ from every client key (it equals keys[${secrets.get(adminKey)}].key)` });
    }
  }
  return issues;
}
