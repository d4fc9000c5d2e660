import type { NeutralRequest } from '../core/chat-request.js';
import { GatewayError } from '../core/gateway-error.js';
import { isObject, type JsonObject } from '../core/json.js';
import { readUpstreamError } from '../protocols/openai-chat/errors.js';
import { openAiClientCodec } from '../protocols/openai-chat/openai-codec.js';
import { encodeUpstreamChatBody, type ChatRequest } from '../protocols/openai-chat/request.js';
import { normalizeCompletion } from '../protocols/openai-chat/response.js';
import { OpenAiStreamPassthrough } from '../protocols/openai-chat/stream-passthrough.js';
import type { AttemptPlan, Exchange } from './exchange.js';
import { openAiDialect } from './openai-dialect.js';
import { keepAliveFrame } from './response-sink.js';
import type { Route } from './route-table.js';
import { parseAnswer, translatedPlan } from './translated-plan.js';
import { estimateRequestPrompt, positiveInt } from './budget-estimate.js';

/** An OpenAI Chat Completions request: passed through to OpenAI-compatible routes, translated to others. */
export function openAiExchange(request: ChatRequest): Exchange {
  let neutral: NeutralRequest | undefined;
  let promptEstimate: Promise<number> | undefined;
  const decodeNeutral = (): NeutralRequest => (neutral ??= openAiClientCodec.decodeRequest(request.body));
  return {
    protocol: 'openai-chat',
    model: request.model,
    stream: request.stream,
    dialect: openAiDialect,
    keepAliveFrame,
    async plan(route: Route): Promise<AttemptPlan> {
      if (route.provider.protocol !== 'openai-chat') {
        return translatedPlan(decodeNeutral(), route, openAiClientCodec, { model: request.model, includeUsage: request.includeUsage });
      }
      return {
        body: encodeUpstreamChatBody(request, route.provider.target(route.upstreamModel)),
        translator: () => new OpenAiStreamPassthrough(request.includeUsage, route.label),
        unary(text) {
          const normalized = normalizeCompletion(asCompletion(parseAnswer(text, route.label), route.label), text);
          return { body: normalized.text, usage: normalized.usage, finishReasons: normalized.finishReasons };
        },
      };
    },
    estimatePromptTokens(): Promise<number> {
      promptEstimate ??= estimateRequestPrompt(decodeNeutral, request.body, ['messages', 'tools', 'functions']);
      return promptEstimate;
    },
    maxOutputTokens(fallback: number): number {
      const max = positiveInt(request.body.max_completion_tokens) ?? positiveInt(request.body.max_tokens) ?? fallback;
      // `n` choices are n answers, each up to max tokens.
      return max * (positiveInt(request.body.n) ?? 1);
    },
  };
}

/** The upstream's JSON must be a completion: an error object in a 200 is a failure too. */
function asCompletion(payload: unknown, route: string): JsonObject {
  if (isObject(payload) && Array.isArray(payload.choices)) return payload;
  const details = readUpstreamError(payload);
  throw new GatewayError(
    details ? 'upstream_stream_error' : 'upstream_protocol_error',
    details ? `Upstream ${route} reported an error: ${details.message}` : `Upstream ${route} answered without choices.`,
    { route, upstreamType: details?.type, upstreamCode: details?.code },
  );
}
