import { randomBytes } from 'node:crypto';
import type { ChatEvent } from '../../core/chat-event.js';
import type { FinishReason } from '../../core/finish-reason.js';
import type { JsonObject } from '../../core/json.js';
import type { Usage } from '../../core/usage.js';
import type { ClientStreamEncoder, ClientStreamOptions } from '../codec.js';
import { finishReasonToOpenAi } from './finish-reason-map.js';
import { newToolCallId } from './tool-call-id.js';
import { openAiUsageObject } from './usage-encode.js';

const doneFrame = 'data: [DONE]\n\n';

/**
 * Neutral events -> OpenAI Chat Completions chunks for a client whose upstream spoke another
 * protocol. What the OpenAI SDK's stream helper needs (wire-formats.md 5.1): one envelope (id,
 * created, model) on every chunk, `role` on the first delta, tool-call fragments whose first one
 * carries index, id, type and name, exactly one finish_reason with nothing after it, and with
 * include_usage `usage: null` on every chunk and one `choices: []` usage chunk before [DONE].
 * Reasoning goes out as `reasoning_content` (DeepSeek's name, which OpenAI clients read);
 * signatures and redacted reasoning have no place in this protocol and are dropped.
 */
export class OpenAiStreamEncoder implements ClientStreamEncoder {
  private id: string | undefined;
  private readonly created = Math.floor(Date.now() / 1000);
  private roleSent = false;
  private finishSent = false;
  private readonly openedCalls = new Set<number>();
  private usage: Usage | undefined;

  constructor(private readonly options: ClientStreamOptions) {}

  push(event: ChatEvent): string {
    switch (event.type) {
      case 'start':
        // The id is fixed by the first chunk; deriving it from the upstream's keeps logs joinable.
        if (this.id === undefined && event.id !== undefined && event.id !== '') {
          this.id = event.id.startsWith('chatcmpl-') ? event.id : `chatcmpl-${event.id}`;
        }
        if (event.usage !== undefined) this.usage ??= event.usage;
        return '';
      case 'usage':
        this.usage = event.usage; // cumulative: the last one wins
        return '';
      case 'finish':
        return this.finishFrame(event.reason);
      default:
        if (this.finishSent) return ''; // nothing may follow the finish chunk
        return this.contentFrame(event);
    }
  }

  finish(): string {
    let frames = this.finishSent ? '' : this.finishFrame('stop');
    if (this.options.includeUsage) {
      // Clients that asked count on this chunk; an upstream that reported nothing leaves only the
      // estimate of the prompt to say.
      const usage = this.usage ?? { input: this.options.estimatedInputTokens ?? 0, cacheRead: 0, cacheWrite: 0, output: 0, reasoning: 0, source: 'estimated' };
      frames += this.frame({ ...this.envelope(), choices: [], usage: openAiUsageObject(usage) });
    }
    return frames + doneFrame;
  }

  private contentFrame(event: Exclude<ChatEvent, { type: 'start' | 'usage' | 'finish' }>): string {
    switch (event.type) {
      case 'text':
        return event.text === '' ? '' : this.chunk({ content: event.text });
      case 'reasoning':
        return event.text === '' ? '' : this.chunk({ reasoning_content: event.text });
      case 'tool-call': {
        if (this.openedCalls.has(event.index)) {
          return event.argumentsDelta === '' ? '' : this.chunk({ tool_calls: [{ index: event.index, function: { arguments: event.argumentsDelta } }] });
        }
        this.openedCalls.add(event.index);
        const id = event.id !== undefined && event.id !== '' ? event.id : newToolCallId();
        const call = { index: event.index, id, type: 'function', function: { name: event.name ?? '', arguments: event.argumentsDelta } };
        // OpenAI's own first tool-call delta says content: null.
        return this.chunk(this.roleSent ? { tool_calls: [call] } : { content: null, tool_calls: [call] });
      }
      default: // reasoning-signature, redacted-reasoning
        return '';
    }
  }

  private finishFrame(reason: FinishReason): string {
    if (this.finishSent) return '';
    this.finishSent = true;
    return this.chunk({}, finishReasonToOpenAi(reason, this.openedCalls.size > 0));
  }

  private chunk(delta: JsonObject, finishReason: string | null = null): string {
    const fullDelta = this.roleSent ? delta : { role: 'assistant', ...delta };
    this.roleSent = true;
    return this.frame({ ...this.envelope(), choices: [{ index: 0, delta: fullDelta, logprobs: null, finish_reason: finishReason }] });
  }

  private envelope(): JsonObject {
    this.id ??= `chatcmpl-${randomBytes(12).toString('hex')}`;
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.options.model };
  }

  /** JSON.stringify never writes a raw line break, so one data line is always enough. */
  private frame(chunk: JsonObject): string {
    if (this.options.includeUsage && !('usage' in chunk)) chunk.usage = null;
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }
}
