import type { BucketTake, BucketView, Limiter } from '../limits/limiter.js';
import { noTicket, type Admission, type AdmissionRequest, type Ticket } from './admission.js';
import type { Exchange } from './exchange.js';
import { DEFAULT_MAX_OUTPUT_TOKENS } from './budget.js';
import { rateLimited, rateLimitHeaders, requestTooLarge, tooManyConcurrent, type LimitType } from './rate-limit-error.js';
import { estimateBodyTokens } from './rate-limit-estimate.js';

export interface RateLimitOptions {
  limiter: Limiter;
  /** Output tokens assumed for a request that sets no max_tokens (capped by the key's TPM). */
  defaultMaxOutputTokens?: number;
}

/**
 * The rate-limit step of admission: a key's requests and tokens per minute, and its requests in
 * flight. Tokens are reserved before the call (the prompt, estimated, plus max_tokens), so a burst
 * of concurrent requests cannot pass the TPM limit together, and reconciled when the request ends
 * with what it really used (input, cached included, plus output). A request refused by a later
 * step (the budget) gives everything back, the request too.
 */
export class RateLimitAdmission implements Admission {
  private readonly limiter: Limiter;
  private readonly defaultMaxOutputTokens: number;

  constructor(options: RateLimitOptions) {
    this.limiter = options.limiter;
    this.defaultMaxOutputTokens = options.defaultMaxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
  }

  async admit({ key, exchange, body }: AdmissionRequest): Promise<Ticket> {
    const { limits } = key;
    if (limits === undefined) return noTicket;
    const scope = key.id === undefined ? `config:${key.name}` : `key:${key.id}`;
    const buckets: BucketTake[] = [];
    const types: LimitType[] = [];
    if (limits.rpm !== undefined) {
      buckets.push({ key: `${scope}:rpm`, perMinute: limits.rpm, amount: 1 });
      types.push('requests');
    }
    if (limits.tpm !== undefined) {
      const tokens = await this.tokensToReserve(exchange, limits.tpm, body);
      buckets.push({ key: `${scope}:tpm`, perMinute: limits.tpm, amount: tokens });
      types.push('tokens');
      if (tokens > limits.tpm) throw requestTooLarge(key.name, limits.tpm, tokens, await this.peek(buckets, types));
    }
    const slot = limits.maxConcurrent === undefined ? undefined : { key: scope, max: limits.maxConcurrent };
    const result = await this.limiter.take({ buckets, ...(slot ? { slot } : {}) });
    if (!result.ok) {
      // Only a refusal sends them: formatting them for every admitted request cost ~1% of a core.
      const headers = rateLimitHeaders(result.buckets.map((view, i) => ({ type: types[i] ?? 'requests', view })));
      const { blockedBy } = result;
      if (blockedBy.kind === 'slot') throw tooManyConcurrent(key.name, blockedBy.max, headers);
      const view = result.buckets[blockedBy.index] as BucketView;
      const requested = buckets[blockedBy.index]?.amount ?? 1;
      throw rateLimited({ keyName: key.name, type: types[blockedBy.index] ?? 'requests', view, requested, waitMs: result.retryAfterMs, headers });
    }
    const { grant } = result;
    return {
      settle: ({ tokens, refused }) => grant.finish(types.map((type) => (refused ? 0 : type === 'requests' ? 1 : Math.max(0, Math.round(tokens))))),
    };
  }

  /** The `x-ratelimit-*` headers of buckets as they are: a take of nothing (none when the limiter cannot say). */
  private async peek(buckets: readonly BucketTake[], types: readonly LimitType[]): Promise<Record<string, string>> {
    const result = await this.limiter.take({ buckets: buckets.map((b) => ({ ...b, amount: 0 })) }).catch(() => undefined);
    return result === undefined ? {} : rateLimitHeaders(result.buckets.map((view, i) => ({ type: types[i] ?? 'requests', view })));
  }

  /**
   * The prompt estimate plus the most output the request allows. A request that sets no max_tokens
   * reserves the default output, but never so much that the reservation alone exceeds the TPM:
   * such a request is not refused as "too large" for a limit it did not ask for.
   *
   * The prompt is estimated from the raw body, without the tokenizer (rate-limit-estimate.ts).
   * Only without a body (callers outside the HTTP path) is it counted.
   */
  private async tokensToReserve(exchange: Exchange, tpm: number, body: Uint8Array | undefined): Promise<number> {
    const prompt = body === undefined ? await exchange.estimatePromptTokens() : estimateBodyTokens(body);
    const explicit = exchange.maxOutputTokens(0);
    if (explicit > 0) return prompt + explicit;
    return prompt + Math.max(0, Math.min(this.defaultMaxOutputTokens, tpm - prompt));
  }
}
