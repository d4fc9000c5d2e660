import type { ClientCodec, UpstreamCodec } from '../codec.js';
import { decodeOpenAiNeutralRequest } from './neutral-request-decode.js';
import { encodeOpenAiRequest } from './neutral-request-encode.js';
import { decodeOpenAiResponse, encodeOpenAiResponse } from './neutral-response.js';
import { OpenAiStreamDecoder } from './neutral-stream-decoder.js';
import { OpenAiStreamEncoder } from './neutral-stream-encoder.js';

/** OpenAI Chat Completions as the client's protocol of a translated exchange. */
export const openAiClientCodec: ClientCodec = {
  decodeRequest: decodeOpenAiNeutralRequest,
  createStreamEncoder: (options) => new OpenAiStreamEncoder(options),
  encodeResponse: encodeOpenAiResponse,
};

/** An OpenAI-compatible upstream of a translated exchange. */
export const openAiUpstreamCodec: UpstreamCodec = {
  encodeRequest: encodeOpenAiRequest,
  createStreamDecoder: (route) => new OpenAiStreamDecoder(route),
  decodeResponse: decodeOpenAiResponse,
};
