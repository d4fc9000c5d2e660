import type { NeutralRequest } from '../core/chat-request.js';
import type { JsonObject } from '../core/json.js';
import { anthropicClientCodec } from '../protocols/anthropic-messages/anthropic-codec.js';
import { decodeAnthropicResponse } from '../protocols/anthropic-messages/response.js';
import { AnthropicStreamPassthrough } from '../protocols/anthropic-messages/stream-passthrough.js';
import { anthropicPingFrame } from '../protocols/anthropic-messages/stream-encoder.js';
import { dropUnsignedThinking } from '../protocols/anthropic-messages/unsigned-thinking.js';
import type { AttemptPlan, Exchange } from './exchange.js';
import { anthropicDialect } from './anthropic-dialect.js';
import type { Route } from './route-table.js';
import { parseAnswer, translatedPlan } from './translated-plan.js';
import { estimateRequestPrompt, positiveInt } from './budget-estimate.js';

export interface AnthropicIngress {
  /** The client's body, checked at the top level, vendor fields included. */
  body: JsonObject;
  model: string;
  stream: boolean;
  requestId: string;
  /** Client headers that must reach an Anthropic upstream (`anthropic-beta`). */
  forwardHeaders: Record<string, string>;
}

/** An Anthropic Messages request: passed through to Anthropic routes, translated to others. */
export function anthropicExchange(ingress: AnthropicIngress): Exchange {
  let neutral: NeutralRequest | undefined;
  let promptEstimate: Promise<number> | undefined;
  const decodeNeutral = (): NeutralRequest => (neutral ??= anthropicClientCodec.decodeRequest(ingress.body));
  // One tokenization serves both the translated message_start and a budget's reservation.
  const estimatePrompt = (): Promise<number> => (promptEstimate ??= estimateRequestPrompt(decodeNeutral, ingress.body, ['system', 'messages', 'tools']));
  return {
    protocol: 'anthropic-messages',
    model: ingress.model,
    stream: ingress.stream,
    dialect: anthropicDialect(ingress.requestId),
    keepAliveFrame: anthropicPingFrame,
    async plan(route: Route): Promise<AttemptPlan> {
      if (route.provider.protocol !== 'anthropic-messages') {
        const decoded = decodeNeutral();
        // message_start must carry input tokens before a non-Anthropic upstream reports any.
        const estimatedInputTokens = await estimatePrompt();
        return translatedPlan(decoded, route, anthropicClientCodec, { model: ingress.model, includeUsage: false, estimatedInputTokens });
      }
      return {
        body: JSON.stringify({ ...dropUnsignedThinking(ingress.body), model: route.upstreamModel }),
        forwardHeaders: ingress.forwardHeaders,
        translator: () => new AnthropicStreamPassthrough(ingress.model, route.label),
        unary(text) {
          const payload = parseAnswer(text, route.label);
          // Decoding checks it is a message (an error object in a 200 throws) and reads its usage.
          const response = decodeAnthropicResponse(payload, route.label);
          return {
            body: JSON.stringify({ ...(payload as JsonObject), model: ingress.model }),
            usage: response.usage,
            finishReasons: [response.finishReason],
          };
        },
      };
    },
    estimatePromptTokens: estimatePrompt,
    maxOutputTokens(fallback: number): number {
      // Required and checked on this path; thinking tokens count within it.
      return positiveInt(ingress.body.max_tokens) ?? fallback;
    },
  };
}
