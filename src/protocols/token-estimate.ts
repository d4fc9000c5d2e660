import type { NeutralRequest } from '../core/chat-request.js';

/**
 * Prompt tokens estimated with a real BPE tokenizer (o200k_base, OpenAI's current vocabulary).
 * Other vendors' tokenizers differ by some percent; this is for answers that are needed before
 * an upstream reports its own count (Anthropic's message_start, count_tokens on non-Anthropic
 * routes), never instead of a reported count.
 */

/** Chat formats wrap each message in a few tokens of markup (role, separators). */
const perMessageOverhead = 4;
/** Images are priced by size, which a base64 string or URL does not say; a mid-size image. */
const perImage = 1600;

type CountTokens = (text: string) => number;
let tokenizer: Promise<CountTokens> | undefined;

/**
 * The tokenizer's tables cost ~65 MiB of memory, so they are loaded on first use: a gateway that
 * only passes requests through never pays for them.
 */
function loadTokenizer(): Promise<CountTokens> {
  tokenizer ??= import('gpt-tokenizer/encoding/o200k_base').then((module) => module.countTokens);
  return tokenizer;
}

/** Tokens of generated text (content, reasoning, tool arguments). */
export async function countTextTokens(text: string): Promise<number> {
  if (text === '') return 0;
  return (await loadTokenizer())(text);
}

export async function estimatePromptTokens(request: NeutralRequest): Promise<number> {
  const countTokens = await loadTokenizer();
  let total = 0;
  const text = (s: string): void => {
    if (s !== '') total += countTokens(s);
  };
  for (const part of request.system) text(part.text);
  if (request.system.length > 0) total += perMessageOverhead;
  for (const message of request.messages) {
    total += perMessageOverhead;
    for (const part of message.content) {
      switch (part.type) {
        case 'text':
          text(part.text);
          break;
        case 'image':
          total += perImage;
          break;
        case 'tool-call':
          text(part.name);
          text(part.arguments);
          break;
        case 'tool-result':
          for (const inner of part.content) {
            if (inner.type === 'text') text(inner.text);
            else total += perImage;
          }
          break;
        case 'reasoning':
          text(part.text);
          break;
        case 'redacted-reasoning':
          break;
      }
    }
  }
  for (const tool of request.tools) text(JSON.stringify(tool));
  return total;
}
