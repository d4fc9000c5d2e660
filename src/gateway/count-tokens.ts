import { GatewayError, toGatewayError } from '../core/gateway-error.js';
import { isObject, type JsonObject } from '../core/json.js';
import { decodeAnthropicRequest } from '../protocols/anthropic-messages/request-decode.js';
import { estimatePromptTokens } from '../protocols/token-estimate.js';
import type { Provider } from '../providers/provider.js';
import { anthropicForwardHeaders, type ChatCall, type ChatDeps } from './chat-completions.js';
import { anthropicDialect } from './anthropic-dialect.js';
import { assertModelAllowed } from './key-model-access.js';
import { respondError } from './respond-error.js';
import { readText } from './upstream-body.js';
import { parseJsonBody } from './parse-json-body.js';
import type { Cancellation } from '../core/cancellation.js';

/**
 * POST /v1/messages/count_tokens. An Anthropic route answers with the upstream's own count (the
 * model's real tokenizer); any other route, or an Anthropic upstream that cannot be reached, gets
 * an estimate from Sluice's tokenizer. Nothing is generated, so nothing is billed or recorded.
 */
export async function handleCountTokens(call: ChatCall, deps: ChatDeps): Promise<void> {
  const dialect = anthropicDialect(call.requestId);
  try {
    const key = await deps.keys.authenticateFresh(call.headers);
    const payload = parseJsonBody(await call.readBody());
    if (!isObject(payload)) throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
    // count_tokens takes a Messages request without max_tokens.
    const request = decodeAnthropicRequest({ ...payload, max_tokens: Number.MAX_SAFE_INTEGER, stream: false });
    const model = deps.routes.resolve(request.model);
    // Counting asks the upstream too: a key may only count on the models it may use.
    assertModelAllowed(key, model.name);
    // The count depends on the betas the client opted into (tool types, context features): an
    // upstream asked without them refuses or miscounts, and the estimate would silently stand in.
    const forwardHeaders = anthropicForwardHeaders(call.headers);
    for (const route of model.routes) {
      const count = route.provider.countTokens?.bind(route.provider);
      if (count === undefined) continue;
      const counted = await upstreamCount(count, { ...payload, model: route.upstreamModel }, route.upstreamModel, forwardHeaders, call.sink.signal);
      if (counted !== undefined) {
        call.sink.sendJson(200, counted);
        return;
      }
    }
    call.sink.sendJson(200, JSON.stringify({ input_tokens: await estimatePromptTokens(request) }));
  } catch (error) {
    respondError(call.sink, dialect, toGatewayError(error));
  }
}

/** The upstream's answer when it gave one; undefined to fall back to the estimate. */
async function upstreamCount(count: NonNullable<Provider['countTokens']>, body: JsonObject, model: string, forwardHeaders: Record<string, string>, signal: Cancellation): Promise<string | undefined> {
  try {
    const response = await count({ model, body: JSON.stringify(body), stream: false, signal, forwardHeaders });
    const { text } = await readText(response.body, 64 * 1024);
    if (response.status !== 200) return undefined;
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) && typeof parsed.input_tokens === 'number' ? text : undefined;
  } catch {
    if (signal.aborted) throw new GatewayError('internal_error', 'The client went away.');
    return undefined;
  }
}
