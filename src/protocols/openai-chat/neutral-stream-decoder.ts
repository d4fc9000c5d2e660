import type { ChatEvent } from '../../core/chat-event.js';
import { GatewayError } from '../../core/gateway-error.js';
import { isObject, type JsonObject } from '../../core/json.js';
import type { SseEvent } from '../../sse/sse-decoder.js';
import type { UpstreamStreamDecoder } from '../codec.js';
import { readUpstreamError } from './errors.js';
import { finishReasonFromOpenAi } from './finish-reason-map.js';
import { openAiReasoningText } from './reasoning-text.js';
import { ToolCallIndexer } from './tool-call-indexer.js';
import { usageFromOpenAi } from './usage.js';

/**
 * An OpenAI-compatible upstream stream -> neutral events, for a client on another protocol.
 * - Only choice 0 is read: n > 1 is refused before translation.
 * - Reasoning: see openAiReasoningText.
 * - `refusal` text (structured outputs) becomes text: the client has no other place for it.
 * - Tool calls get dense indexes and ids (ToolCallIndexer); the first fragment of a call carries
 *   id and name, later ones only arguments.
 * - Within one chunk, usage is emitted before finish, so an encoder closing the message on the
 *   finish event already has the usage an upstream put on its finish chunk (DeepSeek, Groq).
 * - Only the first finish_reason counts.
 */
export class OpenAiStreamDecoder implements UpstreamStreamDecoder {
  finished = false;
  /** The usage-only chunk (`choices: []`) came: OpenAI sends it last, after every finish. */
  usageFinal = false;
  private started = false;
  private finishSeen = false;
  private readonly tools = new ToolCallIndexer();
  /** Dense indexes whose first fragment has been emitted. */
  private readonly openedCalls = new Set<number>();

  constructor(private readonly route: string) {}

  get completeWithoutTerminator(): boolean {
    return this.finishSeen;
  }

  push(event: SseEvent): ChatEvent[] {
    if (this.finished) return [];
    if (event.data.trim() === '[DONE]') {
      this.finished = true;
      return [];
    }
    const chunk = this.parse(event);
    if (chunk === undefined) return [];
    const events: ChatEvent[] = [];
    if (!this.started) {
      this.started = true;
      const start: ChatEvent = { type: 'start' };
      if (typeof chunk.id === 'string' && chunk.id !== '') start.id = chunk.id;
      if (typeof chunk.model === 'string' && chunk.model !== '') start.model = chunk.model;
      events.push(start);
    }
    const choice = Array.isArray(chunk.choices) ? chunk.choices.find(isFirstChoice) : undefined;
    if (choice !== undefined && isObject(choice.delta) && !this.finishSeen) this.readDelta(choice.delta, events);
    const usage = usageFromOpenAi(chunk.usage);
    if (usage !== undefined) {
      events.push({ type: 'usage', usage });
      if (Array.isArray(chunk.choices) && chunk.choices.length === 0) this.usageFinal = true;
    }
    if (choice !== undefined && typeof choice.finish_reason === 'string' && !this.finishSeen) {
      this.finishSeen = true;
      events.push({ type: 'finish', reason: finishReasonFromOpenAi(choice.finish_reason, this.openedCalls.size > 0) });
    }
    return events;
  }

  private readDelta(delta: JsonObject, events: ChatEvent[]): void {
    const reasoning = openAiReasoningText(delta);
    if (reasoning !== '') events.push({ type: 'reasoning', text: reasoning });
    if (typeof delta.content === 'string' && delta.content !== '') events.push({ type: 'text', text: delta.content });
    if (typeof delta.refusal === 'string' && delta.refusal !== '') events.push({ type: 'text', text: delta.refusal });
    const calls = delta.tool_calls;
    if (!Array.isArray(calls) || calls.length === 0) return;
    this.tools.normalize(calls);
    for (const call of calls) {
      if (!isObject(call) || typeof call.index !== 'number') continue;
      const fn = isObject(call.function) ? call.function : {};
      const argumentsDelta = typeof fn.arguments === 'string' ? fn.arguments : '';
      if (this.openedCalls.has(call.index)) {
        if (argumentsDelta !== '') events.push({ type: 'tool-call', index: call.index, argumentsDelta });
        continue;
      }
      this.openedCalls.add(call.index);
      const id = typeof call.id === 'string' ? call.id : '';
      const name = typeof fn.name === 'string' ? fn.name : '';
      events.push({ type: 'tool-call', index: call.index, id, name, argumentsDelta });
    }
  }

  /**
   * The chunk object of one event. In-band errors (OpenAI and OpenRouter `{"error":...}`, vLLM
   * `{"object":"error"}`, `event: error`) and malformed frames are failures. Objects that are not
   * chunks (pings), and Azure's leading `choices: []` prompt-filter chunk, are skipped: the
   * start event waits for the first chunk that says something, which carries the real id.
   */
  private parse(event: SseEvent): JsonObject | undefined {
    let payload: unknown;
    try {
      payload = JSON.parse(event.data);
    } catch {
      throw new GatewayError('upstream_protocol_error', `Upstream ${this.route} sent a malformed event: ${event.data.slice(0, 200)}`, { route: this.route });
    }
    const details = readUpstreamError(payload);
    if (event.event === 'error' || details !== undefined) {
      throw new GatewayError('upstream_stream_error', `Upstream ${this.route} reported an error: ${details?.message ?? event.data.slice(0, 200)}`, {
        route: this.route,
        upstreamType: details?.type,
        upstreamCode: details?.code,
        param: details?.param,
      });
    }
    if (!isObject(payload)) throw new GatewayError('upstream_protocol_error', `Upstream ${this.route} sent an event that is not a chunk object.`, { route: this.route });
    const hasChoices = Array.isArray(payload.choices) && payload.choices.length > 0;
    return hasChoices || isObject(payload.usage) ? payload : undefined;
  }
}

function isFirstChoice(choice: unknown): choice is JsonObject {
  return isObject(choice) && (choice.index === 0 || choice.index === undefined);
}
