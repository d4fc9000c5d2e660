import type { ChatEvent } from '../../core/chat-event.js';
import type { FinishReason } from '../../core/finish-reason.js';
import { GatewayError } from '../../core/gateway-error.js';
import { isObject, type JsonObject } from '../../core/json.js';
import type { Usage } from '../../core/usage.js';
import type { SseEvent } from '../../sse/sse-decoder.js';
import type { UpstreamStreamDecoder } from '../codec.js';
import { newToolCallId } from '../openai-chat/tool-call-id.js';
import { readGeminiError } from './errors.js';
import { finishReasonFromGemini } from './finish-reason.js';
import { StreamedArguments } from './streamed-arguments.js';
import { usageFromGemini } from './usage.js';

interface OpenCall {
  index: number;
  args: StreamedArguments;
  signature: string | undefined;
}

/**
 * A Gemini `streamGenerateContent?alt=sse` stream in neutral events. Every `data:` event is a whole
 * GenerateContentResponse (https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent);
 * there is no terminator, so `finished` stays false and a finishReason makes the stream complete.
 * Only candidates[0] is read (n > 1 is refused before translation).
 *
 * - Tool-call indexes come from a per-stream counter, never from a part's position: parallel calls
 *   arrive in one chunk or in several, each at parts[0] (gateways that used the position merged
 *   them into one call with invalid JSON).
 * - A thoughtSignature on a text or thought part becomes a reasoning-signature event right after
 *   that part's text (https://ai.google.dev/gemini-api/docs/thought-signatures: it may sit on any
 *   part, an empty text part included); on a functionCall part it travels with the tool call.
 * - Usage repeats, cumulative, on every chunk; a usage event goes out whenever it changed (after
 *   the chunk's content), so a stream cut short still settles with what was generated. Encoders
 *   only remember usage: it never ends a block.
 * - Content after the finishReason is ignored; usage after it is still reported.
 */
export class GeminiStreamDecoder implements UpstreamStreamDecoder {
  readonly finished = false;
  private started = false;
  private finishSeen = false;
  private nextIndex = 0;
  private sawToolCall = false;
  private openCall: OpenCall | undefined;
  private latestUsage: Usage | undefined;
  private sentUsage: Usage | undefined;

  constructor(private readonly route: string) {}

  get completeWithoutTerminator(): boolean {
    return this.finishSeen;
  }

  push(event: SseEvent): ChatEvent[] {
    let chunk: unknown;
    try {
      chunk = JSON.parse(event.data);
    } catch {
      throw this.protocolError(`a malformed event: ${event.data.slice(0, 200)}`);
    }
    return this.pushChunk(chunk);
  }

  /** One parsed GenerateContentResponse (also how a whole non-streamed answer is read). */
  pushChunk(chunk: unknown): ChatEvent[] {
    const error = readGeminiError(chunk);
    if (error !== undefined) {
      throw new GatewayError('upstream_stream_error', `Upstream ${this.route} reported an error: ${error.message}`, {
        route: this.route,
        upstreamType: error.type,
        upstreamCode: error.code,
        retryAfter: error.retryAfterSeconds === undefined ? undefined : String(error.retryAfterSeconds),
      });
    }
    if (!isObject(chunk)) throw this.protocolError('an event that is not a GenerateContentResponse object');
    const events: ChatEvent[] = [];
    const usage = usageFromGemini(chunk.usageMetadata);
    if (usage !== undefined) this.latestUsage = usage;
    if (!this.started) {
      this.started = true;
      events.push(startEvent(chunk, usage));
      this.sentUsage = usage;
    }
    if (this.finishSeen) {
      this.pushUsageIfChanged(events);
      return events;
    }
    const candidate = Array.isArray(chunk.candidates) && isObject(chunk.candidates[0]) ? chunk.candidates[0] : undefined;
    if (candidate !== undefined) this.readParts(candidate, events);
    const finish = this.finishReason(candidate, chunk.promptFeedback);
    // Usage as it grows, so a stream cut short is still settled with what was generated.
    if (finish === undefined) this.pushUsageIfChanged(events);
    if (finish !== undefined) {
      this.closeOpenCall(events);
      if (this.latestUsage !== undefined) {
        events.push({ type: 'usage', usage: this.latestUsage });
        this.sentUsage = this.latestUsage;
      }
      events.push({ type: 'finish', reason: finish });
      this.finishSeen = true;
    }
    return events;
  }

  private readParts(candidate: JsonObject, events: ChatEvent[]): void {
    const content = candidate.content;
    if (!isObject(content) || !Array.isArray(content.parts)) return;
    for (const part of content.parts) {
      if (!isObject(part)) throw this.protocolError('a content part that is not an object');
      const signature = typeof part.thoughtSignature === 'string' && part.thoughtSignature !== '' ? part.thoughtSignature : undefined;
      if (part.functionCall !== undefined) {
        this.readFunctionCall(part.functionCall, signature, events);
        continue;
      }
      // Other part kinds (inlineData, executableCode, ...) answer features Sluice never requests.
      if (typeof part.text !== 'string' && signature === undefined) continue;
      this.closeOpenCall(events);
      const text = typeof part.text === 'string' ? part.text : '';
      if (text !== '') events.push(part.thought === true ? { type: 'reasoning', text } : { type: 'text', text });
      if (signature !== undefined) events.push({ type: 'reasoning-signature', signature, family: 'gemini' });
    }
  }

  /**
   * A whole call (`{name, args}`), or a Vertex streamed one: `{name, willContinue: true}` opens it,
   * `{partialArgs, willContinue: true}` fragments fill it, a fragment without `willContinue` (often
   * `{}`) closes it. Its id and name go out at once; the arguments when it closes.
   */
  private readFunctionCall(call: unknown, signature: string | undefined, events: ChatEvent[]): void {
    if (!isObject(call)) throw this.protocolError('a functionCall that is not an object');
    const name = typeof call.name === 'string' && call.name !== '' ? call.name : undefined;
    if (name === undefined) {
      const open = this.openCall;
      if (open === undefined) {
        if (call.partialArgs !== undefined || call.args !== undefined) throw this.protocolError('function call arguments without a function name');
        return; // an empty closing fragment with nothing open
      }
      this.applyPartialArgs(open, call.partialArgs);
      open.signature ??= signature;
      if (call.willContinue !== true) this.closeOpenCall(events);
      return;
    }
    this.closeOpenCall(events);
    const index = this.nextIndex++;
    this.sawToolCall = true;
    const id = typeof call.id === 'string' && call.id !== '' ? call.id : newToolCallId();
    const event: ChatEvent = { type: 'tool-call', index, id, name, argumentsDelta: '' };
    if (signature !== undefined) event.signature = { family: 'gemini', value: signature };
    if (call.willContinue === true) {
      const open: OpenCall = { index, args: new StreamedArguments(), signature: undefined };
      this.applyPartialArgs(open, call.partialArgs);
      this.openCall = open;
    } else {
      if (call.args !== undefined && call.args !== null && !isObject(call.args)) throw this.protocolError(`function call ${name} has arguments that are not an object`);
      event.argumentsDelta = JSON.stringify(call.args ?? {});
    }
    events.push(event);
  }

  private applyPartialArgs(open: OpenCall, partialArgs: unknown): void {
    const problem = open.args.apply(partialArgs);
    if (problem !== undefined) throw this.protocolError(`streamed function call arguments: ${problem}`);
  }

  private closeOpenCall(events: ChatEvent[]): void {
    const open = this.openCall;
    if (open === undefined) return;
    this.openCall = undefined;
    const event: ChatEvent = { type: 'tool-call', index: open.index, argumentsDelta: open.args.json() };
    if (open.signature !== undefined) event.signature = { family: 'gemini', value: open.signature };
    events.push(event);
  }

  /** The candidate's finishReason, or a prompt blocked before any candidate (promptFeedback). */
  private finishReason(candidate: JsonObject | undefined, feedback: unknown): FinishReason | undefined {
    if (candidate !== undefined && typeof candidate.finishReason === 'string' && candidate.finishReason !== '') {
      return finishReasonFromGemini(candidate.finishReason, this.sawToolCall);
    }
    if (candidate === undefined && isObject(feedback) && typeof feedback.blockReason === 'string') return 'content-filter';
    return undefined;
  }

  private pushUsageIfChanged(events: ChatEvent[]): void {
    const usage = this.latestUsage;
    if (usage === undefined || (this.sentUsage !== undefined && sameUsage(usage, this.sentUsage))) return;
    events.push({ type: 'usage', usage });
    this.sentUsage = usage;
  }

  private protocolError(what: string): GatewayError {
    return new GatewayError('upstream_protocol_error', `Upstream ${this.route} sent ${what}`, { route: this.route });
  }
}

function startEvent(chunk: JsonObject, usage: Usage | undefined): ChatEvent {
  const start: ChatEvent = { type: 'start' };
  if (typeof chunk.responseId === 'string' && chunk.responseId !== '') start.id = chunk.responseId;
  if (typeof chunk.modelVersion === 'string' && chunk.modelVersion !== '') start.model = chunk.modelVersion;
  if (usage !== undefined) start.usage = usage;
  return start;
}

function sameUsage(a: Usage, b: Usage): boolean {
  return a.input === b.input && a.cacheRead === b.cacheRead && a.output === b.output && a.reasoning === b.reasoning;
}
