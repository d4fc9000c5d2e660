/**
 * One request through Sluice with an official SDK (OpenAI or Anthropic, the routing tests' two
 * ingress protocols), reduced to what the routing tests check: the text, the error the SDK threw
 * (HTTP status and headers, or an in-stream error), and how long it took. SDK retries are off, so
 * every retry seen upstream is Sluice's.
 */
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import type { Protocol } from './routing-upstream.js';
import { clientKey, type TestSluice } from './sluice.js';

export interface Asked {
  text: string;
  /** What the SDK threw, if anything. */
  error: unknown;
  /** HTTP status of an error response (undefined for success or an in-stream error). */
  status: number | undefined;
  /** Response headers of an error response. */
  header(name: string): string | null | undefined;
  ms: number;
}

export async function ask(sluice: TestSluice, protocol: Protocol, options: { stream: boolean; signal?: AbortSignal }): Promise<Asked> {
  const started = Date.now();
  let text = '';
  let error: unknown;
  try {
    if (protocol === 'openai') {
      const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: clientKey, maxRetries: 0, timeout: 30_000 });
      const messages = [{ role: 'user' as const, content: 'Hi' }];
      if (options.stream) {
        const stream = await client.chat.completions.create({ model: 'm', messages, stream: true }, { signal: options.signal });
        for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
      } else {
        text = (await client.chat.completions.create({ model: 'm', messages }, { signal: options.signal })).choices[0]?.message.content ?? '';
      }
    } else {
      const client = new Anthropic({ baseURL: sluice.url, apiKey: clientKey, maxRetries: 0, timeout: 30_000 });
      const messages = [{ role: 'user' as const, content: 'Hi' }];
      if (options.stream) {
        const stream = await client.messages.create({ model: 'm', max_tokens: 100, messages, stream: true }, { signal: options.signal });
        for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      } else {
        const message = await client.messages.create({ model: 'm', max_tokens: 100, messages }, { signal: options.signal });
        text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
      }
    }
  } catch (caught) {
    error = caught;
  }
  const apiError = error instanceof OpenAI.APIError || error instanceof Anthropic.APIError ? error : undefined;
  return {
    text,
    error,
    status: apiError?.status,
    header: (name) => apiError?.headers?.get(name),
    ms: Date.now() - started,
  };
}

/** The error type in the body of an SDK error, in either protocol's shape. */
export function errorType(asked: Asked): string | undefined {
  const error = asked.error;
  if (error instanceof OpenAI.APIError) return (error.error as { type?: string } | undefined)?.type;
  if (error instanceof Anthropic.APIError) return (error.error as { error?: { type?: string } } | undefined)?.error?.type;
  return undefined;
}
