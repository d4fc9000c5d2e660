import type { ClientCodec, UpstreamCodec } from '../codec.js';
import { decodeAnthropicRequest } from './request-decode.js';
import { encodeAnthropicRequest } from './request-encode.js';
import { decodeAnthropicResponse, encodeAnthropicResponse } from './response.js';
import { AnthropicStreamDecoder } from './stream-decoder.js';
import { AnthropicStreamEncoder } from './stream-encoder.js';

/** Anthropic Messages as the client's protocol of a translated exchange. */
export const anthropicClientCodec: ClientCodec = {
  decodeRequest: decodeAnthropicRequest,
  createStreamEncoder: (options) => new AnthropicStreamEncoder(options),
  encodeResponse: encodeAnthropicResponse,
};

/** Anthropic Messages as the upstream's protocol of a translated exchange. */
export const anthropicUpstreamCodec: UpstreamCodec = {
  encodeRequest: encodeAnthropicRequest,
  createStreamDecoder: (route) => new AnthropicStreamDecoder(route),
  decodeResponse: decodeAnthropicResponse,
};
