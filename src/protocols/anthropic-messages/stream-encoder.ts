import { randomBytes } from 'node:crypto';
import type { ChatEvent } from '../../core/chat-event.js';
import type { FinishReason } from '../../core/finish-reason.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { Usage } from '../../core/usage.js';
import type { ClientStreamEncoder, ClientStreamOptions } from '../codec.js';
import { anthropicStopReason } from './stop-reason.js';
import { anthropicUsageObject } from './usage.js';

/** Anthropic's keep-alive event; the SDKs skip it. */
export const anthropicPingFrame = 'event: ping\ndata: {"type":"ping"}\n\n';

type OpenBlock = { kind: 'text' } | { kind: 'thinking' } | { kind: 'redacted' } | { kind: 'tool'; call: number };

/** A tool call held back until its block can be written whole. */
interface HeldCall {
  id: string;
  name: string;
  args: string;
}

/**
 * Neutral events -> an Anthropic client stream: message_start, blocks with consecutive indices
 * (start, deltas of the block's own type, stop), message_delta, message_stop. A block ends when an
 * event of another kind, or for another tool call, arrives.
 *
 * Parallel tool calls: Anthropic blocks cannot interleave, while a neutral stream may send
 * fragments of call 1 before call 0 is done. So one tool block is live at a time (the first call
 * of a run streams its arguments as they come); calls that start while it is open are held, with
 * their arguments, and written whole (start, one input_json_delta, stop) when the live block ends.
 * Clients only act on tool calls at message_stop, so holding costs display granularity, never
 * time. A fragment for a call whose block was already written cannot be expressed and fails the
 * stream rather than deliver arguments that silently lack their end.
 */
export class AnthropicStreamEncoder implements ClientStreamEncoder {
  private started = false;
  private ended = false;
  private nextIndex = 0;
  private open: OpenBlock | undefined;
  private readonly held = new Map<number, HeldCall>();
  private readonly written = new Set<number>();
  private startUsage: Usage | undefined;
  private usage: Usage | undefined;
  private finishReason: FinishReason | undefined;
  private stopSequence: string | undefined;

  constructor(private readonly options: ClientStreamOptions) {}

  push(event: ChatEvent): string {
    if (this.ended) return '';
    let out = this.started ? '' : this.messageStart(event.type === 'start' ? event : undefined);
    switch (event.type) {
      case 'start':
        break;
      case 'text':
        if (event.text === '') break;
        if (this.open?.kind !== 'text') out += this.openBlock({ kind: 'text' }, { type: 'text', text: '' });
        out += this.delta({ type: 'text_delta', text: event.text });
        break;
      case 'reasoning':
        if (event.text === '') break;
        if (this.open?.kind !== 'thinking') out += this.openThinking();
        out += this.delta({ type: 'thinking_delta', thinking: event.text });
        break;
      case 'reasoning-signature':
        // Only Anthropic's own signatures verify; another family's is meaningless here. Either
        // way the signature ends its reasoning block: what follows opens a new one.
        if (event.family === 'anthropic') {
          if (this.open?.kind !== 'thinking') out += this.openThinking();
          out += this.delta({ type: 'signature_delta', signature: event.signature });
        }
        if (this.open?.kind === 'thinking') out += this.closeBlock();
        break;
      case 'redacted-reasoning':
        if (event.family !== 'anthropic') break; // opaque to everyone but its own family
        out += this.openBlock({ kind: 'redacted' }, { type: 'redacted_thinking', data: event.data });
        out += this.closeBlock();
        break;
      case 'tool-call':
        out += this.toolCall(event);
        break;
      case 'usage':
        this.usage = event.usage;
        break;
      case 'finish':
        this.finishReason = event.reason;
        this.stopSequence = event.stopSequence;
        break;
    }
    return out;
  }

  finish(): string {
    if (this.ended) return '';
    let out = this.started ? '' : this.messageStart(undefined);
    out += this.closeBlock();
    this.ended = true;
    let reason = this.finishReason ?? 'stop';
    // Some OpenAI-compatible servers end tool calls with finish_reason "stop"; Anthropic clients
    // run tools only on stop_reason "tool_use".
    if (reason === 'stop' && this.written.size > 0) reason = 'tool-calls';
    const stopSequence = reason === 'stop-sequence' ? (this.stopSequence ?? null) : null;
    const usage = anthropicUsageObject(this.usage ?? this.startUsage ?? this.estimatedUsage());
    out += frame('message_delta', { delta: { stop_reason: anthropicStopReason(reason), stop_sequence: stopSequence }, usage });
    return out + frame('message_stop', {});
  }

  private messageStart(start: { id?: string; usage?: Usage } | undefined): string {
    this.started = true;
    this.startUsage = start?.usage;
    const message = {
      id: start?.id ?? `msg_${randomBytes(12).toString('hex')}`,
      type: 'message',
      role: 'assistant',
      model: this.options.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: anthropicUsageObject(start?.usage ?? this.estimatedUsage()),
    };
    return frame('message_start', { message });
  }

  private estimatedUsage(): Usage {
    return { input: this.options.estimatedInputTokens ?? 0, cacheRead: 0, cacheWrite: 0, output: 0, reasoning: 0, source: 'estimated' };
  }

  /** A call's `signature` (Gemini's thought signature) has no place in a tool_use block: dropped. */
  private toolCall(event: Extract<ChatEvent, { type: 'tool-call' }>): string {
    const call = event.index;
    if (this.open?.kind === 'tool' && this.open.call === call) {
      return event.argumentsDelta === '' ? '' : this.delta({ type: 'input_json_delta', partial_json: event.argumentsDelta });
    }
    const held = this.held.get(call);
    if (held !== undefined) {
      held.args += event.argumentsDelta;
      return '';
    }
    if (this.written.has(call)) {
      throw new GatewayError('upstream_protocol_error', `The upstream sent more arguments for tool call ${call} after other content followed it; an Anthropic stream cannot express that.`);
    }
    const fresh: HeldCall = { id: event.id ?? newToolUseId(), name: event.name ?? '', args: event.argumentsDelta };
    if (this.open?.kind === 'tool') {
      this.held.set(call, fresh); // the live call may not be done yet: hold this one
      return '';
    }
    let out = this.closeBlock();
    out += this.openTool(call, fresh);
    if (fresh.args !== '') out += this.delta({ type: 'input_json_delta', partial_json: fresh.args });
    return out;
  }

  private openTool(call: number, held: HeldCall): string {
    this.written.add(call);
    return this.openBlock({ kind: 'tool', call }, toolUseBlock(held));
  }

  private openThinking(): string {
    // `signature: ''` is Anthropic's own placeholder in a start event; only a signature_delta
    // ever fills it, and only with an Anthropic signature.
    return this.openBlock({ kind: 'thinking' }, { type: 'thinking', thinking: '', signature: '' });
  }

  /** Closes whatever is open, then opens a block. */
  private openBlock(kind: OpenBlock, contentBlock: Record<string, unknown>): string {
    const out = this.closeBlock();
    this.open = kind;
    return out + frame('content_block_start', { index: this.nextIndex, content_block: contentBlock });
  }

  /** Ends the open block; if it was a live tool call, the calls held behind it are written whole. */
  private closeBlock(): string {
    if (this.open === undefined) return '';
    let out = frame('content_block_stop', { index: this.nextIndex });
    const wasTool = this.open?.kind === 'tool';
    this.open = undefined;
    this.nextIndex++;
    if (!wasTool) return out;
    for (const [call, held] of this.held) {
      this.held.delete(call);
      this.written.add(call);
      out += frame('content_block_start', { index: this.nextIndex, content_block: toolUseBlock(held) });
      if (held.args !== '') out += this.delta({ type: 'input_json_delta', partial_json: held.args });
      out += frame('content_block_stop', { index: this.nextIndex });
      this.nextIndex++;
    }
    return out;
  }

  private delta(delta: Record<string, unknown>): string {
    return frame('content_block_delta', { index: this.nextIndex, delta });
  }
}

function frame(type: string, payload: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
}

/** A tool_use block always starts with empty input; the arguments follow as input_json_delta. */
function toolUseBlock(call: HeldCall): Record<string, unknown> {
  return { type: 'tool_use', id: call.id, name: call.name, input: {} };
}

function newToolUseId(): string {
  return `toolu_${randomBytes(12).toString('hex')}`;
}
