import type { UpstreamCodec } from '../codec.js';
import { encodeGeminiRequest } from './request-encode.js';
import { decodeGeminiResponse } from './response.js';
import { GeminiStreamDecoder } from './stream-decoder.js';

/** Gemini's generateContent protocol as an upstream of translated exchanges. */
export const geminiUpstreamCodec: UpstreamCodec = {
  encodeRequest: encodeGeminiRequest,
  createStreamDecoder: (route) => new GeminiStreamDecoder(route),
  decodeResponse: decodeGeminiResponse,
};

/**
 * The request path under the API base URL (e.g. https://generativelanguage.googleapis.com/v1beta):
 * `/models/{model}:streamGenerateContent?alt=sse` or `/models/{model}:generateContent`. Without
 * `alt=sse` the streaming method answers one JSON array instead of SSE. A model configured as
 * Google names resources (`models/gemini-2.5-flash`) loses that prefix rather than doubling it;
 * the rest is percent-encoded so a `:` or `/` in it cannot change the method or the path.
 */
export function geminiPath(model: string, stream: boolean): string {
  const id = encodeURIComponent(model.startsWith('models/') ? model.slice('models/'.length) : model);
  return stream ? `/models/${id}:streamGenerateContent?alt=sse` : `/models/${id}:generateContent`;
}
