import { isObject, type JsonObject } from '../../core/json.js';
import type { Usage } from '../../core/usage.js';
import type { SseEvent } from '../../sse/sse-decoder.js';
import { encodeSseEvent } from '../../sse/sse-encoder.js';
import { GeneratedSample, type GeneratedText } from '../generated-sample.js';
import type { StreamTranslator } from '../stream-translator.js';
import { mergeAnthropicUsage, usageFromAnthropic } from './usage.js';
import { AnthropicStreamFaults } from './upstream-events.js';
import { scanStringLiteral } from '../json-string-literal.js';

/**
 * An Anthropic upstream relayed to an Anthropic client. Every event goes out with its data as it
 * came (unknown event types and fields survive), except message_start, which shows the public
 * model name. Usage, stop reasons and the commit point are tapped on the way.
 *
 * Once content has been seen, content_block_delta and content_block_stop events are forwarded
 * without being parsed: they are most of the stream and nothing more is read from them. They are
 * still checked: one in the usual compact shape by a scan of its string literal, anything else by
 * JSON.parse, so a malformed event fails the stream (upstream_protocol_error) instead of reaching
 * the client, whose SDK would throw a parse error while Sluice counted the request a success.
 */
export class AnthropicStreamPassthrough implements StreamTranslator {
  sawContent = false;
  finished = false;
  readonly completeWithoutTerminator = false; // Anthropic always ends with message_stop
  readonly finishReasons: string[] = [];
  usage: Usage | undefined;
  private rawUsage: JsonObject | undefined;
  private started = false;
  /** The text of the content deltas (GeneratedSample says why not the raw events). */
  private readonly deltas = new GeneratedSample();

  private readonly faults: AnthropicStreamFaults;

  constructor(private readonly publicModel: string, route: string) {
    this.faults = new AnthropicStreamFaults(route);
  }

  push(event: SseEvent): string {
    if (this.finished) return '';
    if (event.event === 'error') throw this.faults.inBandError(event.data);
    if (this.sawContent && event.event === 'content_block_stop') {
      if (!usualStop.test(event.data)) this.faults.parse(event.data);
      return encodeSseEvent(event.event, event.data);
    }
    if (this.sawContent && event.event === 'content_block_delta') {
      this.sampleDelta(event.data);
      return encodeSseEvent(event.event, event.data);
    }
    const payload = this.faults.parse(event.data);
    const type = typeof payload.type === 'string' && eventName.test(payload.type) ? payload.type : event.event;
    if (type === undefined) return ''; // no usable name anywhere: the SDK could not use it either
    switch (type) {
      case 'error':
        throw this.faults.inBandError(event.data);
      case 'ping':
        // Before content the relay sends its own keep-alives; after it, a ping is harmless.
        if (!this.sawContent) return '';
        break;
      case 'message_start':
        // A repeated message_start makes the SDK throw ("Unexpected event order"); the first one
        // stands and the content that follows still belongs to it.
        if (this.started) return '';
        return encodeSseEvent(type, this.messageStart(payload));
      case 'content_block_start':
        if (!this.sawContent && isContentBlockStart(payload.content_block)) this.sawContent = true;
        break;
      case 'content_block_delta':
        if (!this.sawContent && isContentDelta(payload.delta)) this.sawContent = true;
        this.deltas.add(deltaText(payload.delta));
        break;
      case 'message_delta':
        this.messageDelta(payload);
        break;
      case 'message_stop':
        this.finished = true;
        break;
    }
    // The event name is the JSON type: the SDK drops events without an `event:` line.
    return encodeSseEvent(type, event.data);
  }

  closingFrames(): string {
    return '';
  }

  private messageStart(payload: JsonObject): string {
    const message = payload.message;
    if (!isObject(message)) throw this.faults.protocolError('a message_start without a message');
    this.started = true;
    this.rawUsage = isObject(message.usage) ? message.usage : undefined;
    this.usage = usageFromAnthropic(this.rawUsage);
    return JSON.stringify({ ...payload, message: { ...message, model: this.publicModel } });
  }

  private messageDelta(payload: JsonObject): void {
    this.rawUsage = mergeAnthropicUsage(this.rawUsage, payload.usage);
    this.usage = usageFromAnthropic(this.rawUsage);
    const delta = payload.delta;
    if (isObject(delta) && typeof delta.stop_reason === 'string') this.finishReasons.push(delta.stop_reason);
  }

  generated(): GeneratedText {
    return this.deltas.read();
  }

  /**
   * A delta after the commit point, not parsed when it has the usual compact shape (its one string
   * literal is checked and, for the usage sample, decoded); anything else is parsed, so a malformed
   * event fails the stream.
   */
  private sampleDelta(data: string): void {
    const head = usualDeltaHeadOf(data);
    if (head === undefined) {
      this.deltas.add(deltaText(this.faults.parse(data).delta));
      return;
    }
    if (head[1] !== 'signature') this.deltas.addLiteral(data, head[0].length, data.length - 2); // a signature is not generated text
  }
}

/** What can stand as an SSE event name (a JSON type with a line break would break the frame). */
const eventName = /^[A-Za-z0-9_.-]+$/;

/** A block start that already shows something: text or thinking with text, or any other block. */
function isContentBlockStart(block: unknown): boolean {
  if (!isObject(block)) return false;
  if (block.type === 'text') return typeof block.text === 'string' && block.text !== '';
  if (block.type === 'thinking') return typeof block.thinking === 'string' && block.thinking !== '';
  return true;
}

function isContentDelta(delta: unknown): boolean {
  if (!isObject(delta)) return false;
  for (const key of ['text', 'thinking', 'partial_json'] as const) {
    const value = delta[key];
    if (typeof value === 'string' && value !== '') return true;
  }
  return false;
}

/** The text one content_block_delta's `delta` carried (text, thinking or tool input JSON). */
function deltaText(delta: unknown): string {
  if (!isObject(delta)) return '';
  let text = '';
  for (const field of ['text', 'thinking', 'partial_json']) {
    const value = delta[field];
    if (typeof value === 'string') text += value;
  }
  return text;
}

const usualDeltaHead = /^\{"type":"content_block_delta","index":\d{1,6},"delta":\{"type":"(?:text_delta|thinking_delta|input_json_delta|signature_delta)","(text|thinking|partial_json|signature)":/;
const usualStop = /^\{"type":"content_block_stop","index":\d{1,6}\}$/;

/**
 * A well-formed delta in the compact shape Anthropic sends: its head match (the field is [1]; the
 * one string literal runs from the end of the match to the closing `}}`); undefined for any other
 * shape.
 */
function usualDeltaHeadOf(data: string): RegExpExecArray | undefined {
  const head = usualDeltaHead.exec(data);
  if (head === null || !data.endsWith('}}')) return undefined;
  return scanStringLiteral(data, head[0].length) === data.length - 2 ? head : undefined;
}
