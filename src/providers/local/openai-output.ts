/**
 * A local model's answer in OpenAI Chat Completions wire format, streamed (SSE chunks ending in
 * [DONE]) or whole. The local provider speaks the same protocol as every OpenAI-compatible
 * upstream, so the relay, the commit point, translation to Anthropic clients and the ledger treat
 * it like any other route.
 */
import { randomBytes } from 'node:crypto';

export type LocalFinish = 'stop' | 'length' | 'tool_calls';

export interface LocalToolCall {
  name: string;
  params: unknown;
}

export interface LocalUsage {
  promptTokens: number;
  completionTokens: number;
}

/** OpenAI-style ids: `call_` plus 24 random base62-ish characters. */
export function newId(prefix: string): string {
  return `${prefix}${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`;
}

export class OpenAiChunkWriter {
  private readonly id = newId('chatcmpl-');
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(private readonly model: string, private readonly write: (frame: string) => void) {}

  role(): void {
    this.chunk({ role: 'assistant', content: '' }, null);
  }

  text(text: string): void {
    if (text !== '') this.chunk({ content: text }, null);
  }

  toolCalls(calls: LocalToolCall[]): void {
    calls.forEach((call, index) => {
      this.chunk({ tool_calls: [{ index, id: newId('call_'), type: 'function', function: { name: call.name, arguments: JSON.stringify(call.params ?? {}) } }] }, null);
    });
  }

  finish(reason: LocalFinish): void {
    this.chunk({}, reason);
  }

  usage(usage: LocalUsage): void {
    this.frame({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage: usageJson(usage) });
  }

  done(): void {
    this.write('data: [DONE]\n\n');
  }

  private chunk(delta: Record<string, unknown>, finishReason: LocalFinish | null): void {
    this.frame({
      id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });
  }

  private frame(chunk: Record<string, unknown>): void {
    this.write(`data: ${JSON.stringify(chunk)}\n\n`);
  }
}

/** The whole answer as a chat.completion object. */
export function completionJson(model: string, text: string, calls: LocalToolCall[], finish: LocalFinish, usage: LocalUsage): string {
  const message: Record<string, unknown> = { role: 'assistant', content: text === '' && calls.length > 0 ? null : text };
  if (calls.length > 0) {
    message.tool_calls = calls.map((call) => ({ id: newId('call_'), type: 'function', function: { name: call.name, arguments: JSON.stringify(call.params ?? {}) } }));
  }
  return JSON.stringify({
    id: newId('chatcmpl-'), object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
    usage: usageJson(usage),
  });
}

function usageJson(usage: LocalUsage): Record<string, number> {
  return { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens };
}
