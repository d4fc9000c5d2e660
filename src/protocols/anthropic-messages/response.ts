import { randomBytes } from 'node:crypto';
import type { AssistantPart } from '../../core/chat-request.js';
import type { NeutralResponse } from '../../core/chat-response.js';
import { GatewayError } from '../../core/gateway-error.js';
import { isObject, type JsonObject } from '../../core/json.js';
import { readAnthropicUpstreamError } from './errors.js';
import { anthropicStopReason, finishReasonFromAnthropic } from './stop-reason.js';
import { anthropicUsageObject, usageFromAnthropic } from './usage.js';

/** A whole Anthropic Message (parsed JSON) from an upstream -> neutral. */
export function decodeAnthropicResponse(payload: unknown, route: string): NeutralResponse {
  const error = readAnthropicUpstreamError(payload);
  if (error !== undefined && isObject(payload) && (payload.type === 'error' || payload.content === undefined)) {
    throw new GatewayError('upstream_stream_error', `Upstream ${route} reported an error: ${error.message}`, { route, upstreamType: error.type });
  }
  if (!isObject(payload) || !Array.isArray(payload.content)) {
    throw new GatewayError('upstream_protocol_error', `Upstream ${route} sent a response that is not an Anthropic message.`, { route });
  }
  const content: AssistantPart[] = [];
  for (const block of payload.content) {
    const part = isObject(block) ? decodeBlock(block) : undefined;
    if (part !== undefined) content.push(part);
  }
  const response: NeutralResponse = { content, finishReason: finishReasonFromAnthropic(payload.stop_reason) };
  if (typeof payload.id === 'string') response.id = payload.id;
  if (typeof payload.model === 'string') response.model = payload.model;
  if (typeof payload.stop_sequence === 'string') response.stopSequence = payload.stop_sequence;
  const usage = usageFromAnthropic(payload.usage);
  if (usage !== undefined) response.usage = usage;
  return response;
}

function decodeBlock(block: JsonObject): AssistantPart | undefined {
  switch (block.type) {
    case 'text':
      return typeof block.text === 'string' ? { type: 'text', text: block.text } : undefined;
    case 'thinking': {
      const text = typeof block.thinking === 'string' ? block.thinking : '';
      const signed = typeof block.signature === 'string' && block.signature !== '';
      return { type: 'reasoning', text, ...(signed ? { signature: { family: 'anthropic' as const, value: String(block.signature) } } : {}) };
    }
    case 'redacted_thinking':
      return typeof block.data === 'string' ? { type: 'redacted-reasoning', data: block.data, family: 'anthropic' } : undefined;
    case 'tool_use':
      return {
        type: 'tool-call',
        id: typeof block.id === 'string' ? block.id : '',
        name: typeof block.name === 'string' ? block.name : '',
        arguments: JSON.stringify(isObject(block.input) ? block.input : {}),
      };
    default:
      // Server tool blocks follow server tools in the request, which a translated request cannot
      // declare; one must not become a tool call the client never declared.
      return undefined;
  }
}

/**
 * A neutral answer as an Anthropic Message. Reasoning keeps its thinking block; only an Anthropic
 * signature is written, since a signature is never forged, and reasoning from another provider
 * is shown without a `signature` field rather than with an empty one (a client that replays it
 * through Sluice gets it dropped on the way to Anthropic, never refused there).
 */
export function encodeAnthropicResponse(response: NeutralResponse, options: { model: string }): string {
  const content: JsonObject[] = [];
  for (const part of response.content) {
    switch (part.type) {
      case 'text':
        if (part.text !== '') content.push({ type: 'text', text: part.text });
        break;
      case 'reasoning':
        if (part.signature?.family === 'anthropic') content.push({ type: 'thinking', thinking: part.text, signature: part.signature.value });
        // Another family's bare signature (Gemini signs plain answers) has no text to show, and
        // its signature cannot cross: nothing for the client, as on the streaming path.
        else if (part.text !== '') content.push({ type: 'thinking', thinking: part.text });
        break;
      case 'redacted-reasoning':
        if (part.family === 'anthropic') content.push({ type: 'redacted_thinking', data: part.data });
        break;
      case 'tool-call':
        content.push({ type: 'tool_use', id: part.id || `toolu_${randomBytes(12).toString('hex')}`, name: part.name, input: toolInput(part.id, part.arguments) });
        break;
    }
  }
  let reason = response.finishReason;
  // As in the stream encoder: Anthropic clients run tools only on stop_reason "tool_use".
  if (reason === 'stop' && content.some((block) => block.type === 'tool_use')) reason = 'tool-calls';
  const usage = response.usage ?? { input: 0, cacheRead: 0, cacheWrite: 0, output: 0, reasoning: 0, source: 'estimated' as const };
  return JSON.stringify({
    id: response.id ?? `msg_${randomBytes(12).toString('hex')}`,
    type: 'message',
    role: 'assistant',
    model: options.model,
    content,
    stop_reason: anthropicStopReason(reason),
    stop_sequence: reason === 'stop-sequence' ? (response.stopSequence ?? null) : null,
    usage: anthropicUsageObject(usage),
  });
}

/** A tool_use block's input is an object; the model's arguments text must parse to one. */
function toolInput(id: string, args: string): JsonObject {
  if (args.trim() === '') return {};
  let input: unknown;
  try {
    input = JSON.parse(args);
  } catch {
    throw new GatewayError('upstream_protocol_error', `The upstream's arguments for tool call '${id}' are not valid JSON.`);
  }
  if (!isObject(input)) throw new GatewayError('upstream_protocol_error', `The upstream's arguments for tool call '${id}' are not a JSON object.`);
  return input;
}
