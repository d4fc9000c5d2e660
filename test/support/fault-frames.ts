/**
 * The bytes the fault upstream (fault-upstream.ts) sends, in each vendor's exact wire format
 * (shared/reference/wire-formats.md sections 2 and 3): OpenAI chunks with a role chunk, content
 * deltas, a finish chunk, the `choices: []` usage chunk only when include_usage was asked (with
 * `usage: null` on every other chunk) and `data: [DONE]`; Anthropic `event:` + `data:` frames with
 * message_start (prompt usage and the placeholder output_tokens 1), content_block_start and a ping
 * before the first token, text deltas, content_block_stop, message_delta with the final usage,
 * message_stop. Errors in each vendor's own shape, HTTP and in-band.
 */
import { chunk, usageChunk } from './chunks.js';

export type Dialect = 'openai' | 'anthropic';

/** What a whole answer holds: one content event per piece, and the usage the upstream reports. */
export interface Answer {
  pieces: string[];
  usage: { input: number; output: number };
}

/** Five pieces; the reported output count (7) differs from a tokenizer's count of the text (5), so a row shows which it used. */
export const defaultAnswer: Answer = { pieces: ['One', ' two', ' three', ' four', ' five'], usage: { input: 40, output: 7 } };

export interface StreamFrames {
  /** Before the first token: OpenAI's role chunk; Anthropic's message_start, text block start, ping. */
  preamble: string;
  pieces: string[];
  content(piece: string, index: number): string;
  /** After the last content: finish, usage, terminator. */
  ending: string;
  inBandError(errorType?: string): string;
  malformed: string;
}

export interface DialectFrames {
  streamHeaders: Record<string, string>;
  stream(includeUsage: boolean): StreamFrames;
  completion(): string;
  httpError(status: number, message?: string): { body: string; headers: Record<string, string> };
}

export function framesFor(dialect: Dialect, answer: Answer): DialectFrames {
  return dialect === 'openai' ? openAiFrames(answer) : anthropicFrames(answer);
}

// ----- OpenAI ----------------------------------------------------------------------------------

const openAiErrors: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: 'Invalid request', type: 'invalid_request_error', code: null },
  429: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' },
  500: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', code: null },
  503: { message: 'The engine is currently overloaded, please try again later', type: 'server_error', code: null },
};

const data = (payload: unknown): string => `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;

function openAiFrames(answer: Answer): DialectFrames {
  const { input, output } = answer.usage;
  return {
    streamHeaders: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': 'req_fault_openai' },
    stream(includeUsage) {
      const o = { id: 'chatcmpl-fault', model: 'fault-upstream', usageNull: includeUsage };
      return {
        preamble: data(chunk({ role: 'assistant', content: '' }, null, o)),
        pieces: answer.pieces,
        content: (piece) => data(chunk({ content: piece }, null, o)),
        ending: data(chunk({}, 'stop', o)) + (includeUsage ? data(usageChunk(input, output, o)) : '') + data('[DONE]'),
        inBandError: (errorType = 'server_error') => data({ error: { message: 'The server had an error while processing your request. Sorry about that!', type: errorType, param: null, code: null } }),
        malformed: data('{"id":"chatcmpl-fault","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"trun'),
      };
    },
    completion: () =>
      JSON.stringify({
        id: 'chatcmpl-fault', object: 'chat.completion', created: 1_700_000_000, model: 'fault-upstream', system_fingerprint: 'fp_fault',
        choices: [{ index: 0, message: { role: 'assistant', content: answer.pieces.join(''), refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output },
      }),
    httpError(status, message) {
      const known = openAiErrors[status] ?? { message: `HTTP ${status}`, type: 'server_error', code: null };
      return {
        body: JSON.stringify({ error: { message: message ?? known.message, type: known.type, param: null, code: known.code } }),
        headers: { 'content-type': 'application/json', 'x-request-id': 'req_fault_openai' },
      };
    },
  };
}

// ----- Anthropic -------------------------------------------------------------------------------

const anthropicErrors: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'Invalid request'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'],
  500: ['api_error', 'Internal server error'],
  529: ['overloaded_error', 'Overloaded'],
};

/** One Anthropic SSE event: the event name is always the JSON type. */
const event = (payload: { type: string } & Record<string, unknown>): string => `event: ${payload.type}\ndata: ${JSON.stringify(payload)}\n\n`;

function anthropicFrames(answer: Answer): DialectFrames {
  const { input, output } = answer.usage;
  const message = { id: 'msg_01Fault', type: 'message', role: 'assistant', model: 'fault-upstream', stop_reason: null, stop_sequence: null };
  return {
    streamHeaders: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': 'req_01FaultStream' },
    stream: () => ({
      preamble:
        event({ type: 'message_start', message: { ...message, content: [], usage: { input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1, service_tier: 'standard' } } }) +
        event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
        // Anthropic's own ping, byte for byte (with the space after the colon).
        'event: ping\ndata: {"type": "ping"}\n\n',
      pieces: answer.pieces,
      content: (piece) => event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } }),
      ending:
        event({ type: 'content_block_stop', index: 0 }) +
        event({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: output } }) +
        event({ type: 'message_stop' }),
      inBandError: (errorType = 'overloaded_error') => event({ type: 'error', error: { type: errorType, message: errorType === 'overloaded_error' ? 'Overloaded' : 'Internal server error' } }),
      malformed: 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"trun\n\n',
    }),
    completion: () =>
      JSON.stringify({
        ...message, content: [{ type: 'text', text: answer.pieces.join('') }], stop_reason: 'end_turn',
        usage: { input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: output, service_tier: 'standard' },
      }),
    httpError(status, message) {
      const [type, text] = anthropicErrors[status] ?? ['api_error', `HTTP ${status}`];
      return {
        body: JSON.stringify({ type: 'error', error: { type, message: message ?? text }, request_id: 'req_01FaultError' }),
        headers: { 'content-type': 'application/json', 'request-id': 'req_01FaultError' },
      };
    },
  };
}
