import type { NeutralRequest } from '../core/chat-request.js';
import { GatewayError } from '../core/gateway-error.js';
import type { ClientCodec, ClientStreamOptions, UpstreamCodec } from '../protocols/codec.js';
import { anthropicUpstreamCodec } from '../protocols/anthropic-messages/anthropic-codec.js';
import { geminiUpstreamCodec } from '../protocols/gemini/gemini-codec.js';
import { openAiUpstreamCodec } from '../protocols/openai-chat/openai-codec.js';
import { TranslatingStream } from '../protocols/translating-stream.js';
import type { UpstreamProtocol } from '../providers/provider.js';
import type { AttemptPlan } from './exchange.js';
import type { Route } from './route-table.js';

const upstreamCodecs: Record<UpstreamProtocol, UpstreamCodec> = {
  'openai-chat': openAiUpstreamCodec,
  'anthropic-messages': anthropicUpstreamCodec,
  gemini: geminiUpstreamCodec,
};

/**
 * A route whose protocol differs from the client's: the neutral request is encoded for this
 * route (again on every fallback hop), and its answer decoded to neutral events and re-encoded
 * for the client.
 */
export function translatedPlan(request: NeutralRequest, route: Route, client: ClientCodec, options: ClientStreamOptions): AttemptPlan {
  const upstream = upstreamCodecs[route.provider.protocol];
  const body = upstream.encodeRequest(request, route.provider.target(route.upstreamModel));
  return {
    body,
    translator: () => new TranslatingStream(upstream.createStreamDecoder(route.label), client.createStreamEncoder(options)),
    unary(text) {
      const response = upstream.decodeResponse(parseAnswer(text, route.label), route.label);
      return { body: client.encodeResponse(response, { model: options.model }), usage: response.usage, finishReasons: [response.finishReason] };
    },
  };
}

/** An upstream's JSON answer; anything else is a protocol failure of that route. */
export function parseAnswer(text: string, route: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError('upstream_protocol_error', `Upstream ${route} answered with invalid JSON: ${text.trim().slice(0, 200)}`, { route });
  }
}
