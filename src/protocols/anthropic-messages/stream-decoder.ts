import type { ChatEvent } from '../../core/chat-event.js';
import { isObject, type JsonObject } from '../../core/json.js';
import type { SseEvent } from '../../sse/sse-decoder.js';
import type { UpstreamStreamDecoder } from '../codec.js';
import { finishReasonFromAnthropic } from './stop-reason.js';
import { mergeAnthropicUsage, usageFromAnthropic } from './usage.js';
import { AnthropicStreamFaults } from './upstream-events.js';

/** What an upstream content block became, keyed by the block's `index`. */
type BlockKind = { kind: 'text' } | { kind: 'thinking' } | { kind: 'tool'; call: number } | { kind: 'ignored' };

/**
 * An Anthropic upstream stream -> neutral events. The JSON `type` decides what an event is (as in
 * the SDK), the SSE event name only stands in when the JSON has none. Blocks are tracked by index
 * so each delta lands on what its block started as.
 */
export class AnthropicStreamDecoder implements UpstreamStreamDecoder {
  finished = false;
  readonly completeWithoutTerminator = false; // Anthropic always ends with message_stop
  private readonly blocks = new Map<number, BlockKind>();
  private toolCalls = 0;
  private started = false;
  private usage: JsonObject | undefined;

  private readonly faults: AnthropicStreamFaults;

  constructor(route: string) {
    this.faults = new AnthropicStreamFaults(route);
  }

  push(event: SseEvent): ChatEvent[] {
    if (this.finished) return [];
    if (event.event === 'error') throw this.faults.inBandError(event.data);
    const payload = this.faults.parse(event.data);
    const type = typeof payload.type === 'string' ? payload.type : event.event;
    if (type === 'error') throw this.faults.inBandError(event.data);
    switch (type) {
      case 'message_start':
        return this.messageStart(payload);
      case 'content_block_start':
        return this.blockStart(payload);
      case 'content_block_delta':
        return this.blockDelta(payload);
      case 'message_delta':
        return this.messageDelta(payload);
      case 'message_stop':
        this.finished = true;
        return [];
      default:
        return []; // ping, content_block_stop, and event types Anthropic may add later
    }
  }

  private messageStart(payload: JsonObject): ChatEvent[] {
    // A repeated message_start (seen from misbehaving proxies) would restart the message; the
    // first one stands, and the content that follows still belongs to it.
    if (this.started) return [];
    this.started = true;
    const message = isObject(payload.message) ? payload.message : {};
    this.usage = isObject(message.usage) ? message.usage : undefined;
    const usage = usageFromAnthropic(this.usage);
    return [{
      type: 'start',
      ...(typeof message.id === 'string' ? { id: message.id } : {}),
      ...(typeof message.model === 'string' ? { model: message.model } : {}),
      ...(usage !== undefined ? { usage } : {}),
    }];
  }

  private blockStart(payload: JsonObject): ChatEvent[] {
    const index = this.blockIndex(payload);
    const block = isObject(payload.content_block) ? payload.content_block : {};
    switch (block.type) {
      case 'text':
        this.blocks.set(index, { kind: 'text' });
        return typeof block.text === 'string' && block.text !== '' ? [{ type: 'text', text: block.text }] : [];
      case 'thinking': {
        this.blocks.set(index, { kind: 'thinking' });
        const events: ChatEvent[] = [];
        if (typeof block.thinking === 'string' && block.thinking !== '') events.push({ type: 'reasoning', text: block.thinking });
        if (typeof block.signature === 'string' && block.signature !== '') events.push({ type: 'reasoning-signature', signature: block.signature, family: 'anthropic' });
        return events;
      }
      case 'redacted_thinking':
        this.blocks.set(index, { kind: 'ignored' }); // complete at its start: no deltas follow
        return typeof block.data === 'string' ? [{ type: 'redacted-reasoning', data: block.data, family: 'anthropic' }] : [];
      case 'tool_use': {
        const call = this.toolCalls++;
        this.blocks.set(index, { kind: 'tool', call });
        const input = isObject(block.input) && Object.keys(block.input).length > 0 ? JSON.stringify(block.input) : '';
        return [{ type: 'tool-call', index: call, id: stringOr(block.id, ''), name: stringOr(block.name, ''), argumentsDelta: input }];
      }
      default:
        // Server tool blocks (server_tool_use, web_search_tool_result...) only follow server
        // tools in the request, which a translated request cannot declare. Were one to appear,
        // it must not become a tool call the client never declared and cannot answer.
        this.blocks.set(index, { kind: 'ignored' });
        return [];
    }
  }

  private blockDelta(payload: JsonObject): ChatEvent[] {
    const index = this.blockIndex(payload);
    const block = this.blocks.get(index);
    if (block === undefined) throw this.faults.protocolError(`a content_block_delta for block ${index}, which was never started`);
    const delta = isObject(payload.delta) ? payload.delta : {};
    switch (delta.type) {
      case 'text_delta':
        return block.kind === 'text' && typeof delta.text === 'string' && delta.text !== '' ? [{ type: 'text', text: delta.text }] : [];
      case 'thinking_delta':
        return block.kind === 'thinking' && typeof delta.thinking === 'string' && delta.thinking !== '' ? [{ type: 'reasoning', text: delta.thinking }] : [];
      case 'signature_delta':
        return block.kind === 'thinking' && typeof delta.signature === 'string' ? [{ type: 'reasoning-signature', signature: delta.signature, family: 'anthropic' }] : [];
      case 'input_json_delta':
        return block.kind === 'tool' && typeof delta.partial_json === 'string' && delta.partial_json !== ''
          ? [{ type: 'tool-call', index: block.call, argumentsDelta: delta.partial_json }]
          : [];
      default:
        // citations_delta: citations point into documents or search results, which a translated
        // request cannot carry; the cited words themselves arrive as text_delta.
        return [];
    }
  }

  private messageDelta(payload: JsonObject): ChatEvent[] {
    const events: ChatEvent[] = [];
    this.usage = mergeAnthropicUsage(this.usage, payload.usage);
    const usage = usageFromAnthropic(this.usage);
    if (usage !== undefined) events.push({ type: 'usage', usage });
    const delta = isObject(payload.delta) ? payload.delta : {};
    if (typeof delta.stop_reason === 'string') {
      const stopSequence = typeof delta.stop_sequence === 'string' ? { stopSequence: delta.stop_sequence } : {};
      events.push({ type: 'finish', reason: finishReasonFromAnthropic(delta.stop_reason), ...stopSequence });
    }
    return events;
  }


  private blockIndex(payload: JsonObject): number {
    if (typeof payload.index !== 'number' || !Number.isInteger(payload.index)) throw this.faults.protocolError(`a ${String(payload.type)} event without an index`);
    return payload.index;
  }


}


function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}
