/**
 * A scripted OpenAI-compatible upstream on loopback for the translation matrix, in the exact
 * Chat Completions wire format (shared/reference/wire-formats.md section 2): a role chunk,
 * `reasoning_content` deltas (DeepSeek style), content deltas, tool calls whose first fragment
 * carries index/id/type/name and whose arguments follow in fragments, a finish chunk with
 * `delta: {}`, the `choices: []` usage chunk only when `stream_options.include_usage` was asked
 * (with `usage: null` on every other chunk), `data: [DONE]`. Errors: `{"error":{...}}` bodies
 * and the in-band `data: {"error":...}` frame with no [DONE]. Like api.openai.com it refuses a
 * body carrying another protocol's fields (400) and a wrong key (401).
 */
import type { ServerResponse } from 'node:http';
import { writeInPieces } from './write-pieces.js';
import { startScriptedUpstream, sseHeaders, sleep, type ScriptedUpstream, type UpstreamRequest, type UpstreamScript } from './scripted-upstream.js';
import { chunk, usageChunk } from './chunks.js';
import { expressibleUsage, fragments, httpStatusFor, scenarioByModel, upstreamKeys, type ContentScenario, type StreamErrorScenario } from './scenarios.js';

const errorBodies: Record<number, Record<string, unknown>> = {
  400: { message: 'Invalid request', type: 'invalid_request_error', param: null, code: null },
  401: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
  404: { message: 'Not found', type: 'invalid_request_error', param: null, code: null },
  429: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' },
  500: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null },
  503: { message: 'The engine is currently overloaded, please try again later', type: 'server_error', param: null, code: null },
};

export function sendOpenAiError(res: ServerResponse, status: number, message?: string): void {
  const error = { ...(errorBodies[status] ?? errorBodies[500]), ...(message ? { message } : {}) };
  const text = JSON.stringify({ error });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'x-request-id': 'req_scripted_openai',
    ...(status === 429 ? { 'retry-after': '7' } : {}),
  });
  res.end(text);
}

function usageObject(scenario: ContentScenario): Record<string, unknown> {
  const u = expressibleUsage(scenario.usage, 'openai');
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cacheRead, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** The stream frames of a content scenario (objects are chunks; '[DONE]' the terminator). */
export function openAiContentFrames(model: string, scenario: ContentScenario, includeUsage: boolean): (Record<string, unknown> | string)[] {
  const o = { id: 'chatcmpl-scripted-1', model, usageNull: includeUsage };
  const frames: (Record<string, unknown> | string)[] = [];
  const textFirst = !scenario.reasoning && scenario.text !== undefined;
  frames.push(chunk({ role: 'assistant', content: textFirst ? '' : null, refusal: null }, null, o));
  const reasoningField = scenario.openaiReasoningField ?? 'reasoning_content';
  for (const piece of scenario.reasoning ?? []) frames.push(chunk({ content: null, [reasoningField]: piece }, null, o));
  for (const piece of scenario.text ?? []) frames.push(chunk({ content: piece }, null, o));
  (scenario.tools ?? []).forEach((tool, index) => {
    frames.push(chunk({ tool_calls: [{ index, id: tool.openaiId, type: 'function', function: { name: tool.name, arguments: '' } }] }, null, o));
    for (const piece of fragments(JSON.stringify(tool.args))) frames.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }, null, o));
  });
  frames.push(chunk({}, scenario.finish, o));
  if (includeUsage) {
    const u = usageObject(scenario);
    const { prompt_tokens, completion_tokens, total_tokens: _total, ...details } = u;
    frames.push(usageChunk(prompt_tokens as number, completion_tokens as number, o, details));
  }
  frames.push('[DONE]');
  return frames;
}

/** The non-streamed chat.completion of a content scenario. */
export function openAiCompletion(model: string, scenario: ContentScenario): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: scenario.text ? scenario.text.join('') : null, refusal: null };
  if (scenario.reasoning) message[scenario.openaiReasoningField ?? 'reasoning_content'] = scenario.reasoning.join('');
  if (scenario.tools) {
    message.tool_calls = scenario.tools.map((tool) => ({ id: tool.openaiId, type: 'function', function: { name: tool.name, arguments: JSON.stringify(tool.args) } }));
  }
  return {
    id: 'chatcmpl-scripted-1', object: 'chat.completion', created: 1_700_000_000, model, system_fingerprint: 'fp_scripted',
    choices: [{ index: 0, message, logprobs: null, finish_reason: scenario.finish }],
    usage: usageObject(scenario),
  };
}

async function writeData(res: ServerResponse, frame: Record<string, unknown> | string): Promise<void> {
  const data = typeof frame === 'string' ? frame : JSON.stringify(frame);
  await writeInPieces(res, `data: ${data}\n\n`);
}

async function streamContent(request: UpstreamRequest, res: ServerResponse, model: string, scenario: ContentScenario): Promise<void> {
  const includeUsage = (request.body.stream_options as Record<string, unknown> | undefined)?.include_usage === true;
  const frames = openAiContentFrames(model, scenario, includeUsage);
  res.writeHead(200, sseHeaders);
  if (scenario.firstTokenDelayMs) {
    await writeData(res, frames.shift()!); // the role chunk goes out at once; the content waits
    await Promise.race([sleep(scenario.firstTokenDelayMs), request.closed]);
  }
  for (const frame of frames) await writeData(res, frame);
  res.end();
}

async function streamError(res: ServerResponse, model: string, scenario: StreamErrorScenario): Promise<void> {
  const o = { id: 'chatcmpl-scripted-err', model };
  res.writeHead(200, sseHeaders);
  await writeData(res, chunk({ role: 'assistant', content: '' }, null, o));
  for (const piece of scenario.textBefore) await writeData(res, chunk({ content: piece }, null, o));
  await writeData(res, { error: { ...errorBodies[scenario.textBefore.length > 0 ? 500 : 503] } });
  res.end();
}

const foreignKeys = ['system', 'contents', 'stop_sequences', 'thinking', 'systemInstruction', 'generationConfig', 'anthropic_version'];

/** Like api.openai.com: 404 off the path, 401 without the key, 400 for a malformed body. */
function refusal(request: UpstreamRequest): { status: number; message: string } | undefined {
  if (request.method !== 'POST' || request.path !== '/v1/chat/completions') return { status: 404, message: `Unknown request URL: ${request.method} ${request.path}` };
  if (request.headers.authorization !== `Bearer ${upstreamKeys.openai}`) return { status: 401, message: 'Incorrect API key provided.' };
  const body = request.body;
  if ('unparsable' in body) return { status: 400, message: 'We could not parse the JSON body of your request.' };
  if (typeof body.model !== 'string') return { status: 400, message: 'you must provide a model parameter' };
  if (!Array.isArray(body.messages) || body.messages.length === 0) return { status: 400, message: "Missing required parameter: 'messages'." };
  for (const key of foreignKeys) if (key in body) return { status: 400, message: `Unrecognized request argument supplied: ${key}` };
  for (const [i, message] of (body.messages as Record<string, unknown>[]).entries()) {
    if (!['system', 'developer', 'user', 'assistant', 'tool'].includes(String(message.role))) return { status: 400, message: `Invalid value for 'messages[${i}].role'` };
    if (message.role === 'tool' && typeof message.tool_call_id !== 'string') return { status: 400, message: `Missing parameter 'tool_call_id': messages[${i}]` };
    for (const call of (message.tool_calls ?? []) as Record<string, unknown>[]) {
      const fn = call.function as Record<string, unknown> | undefined;
      if (typeof call.id !== 'string' || call.type !== 'function' || typeof fn?.name !== 'string' || typeof fn.arguments !== 'string') {
        return { status: 400, message: `Invalid 'messages[${i}].tool_calls': each needs id, type "function", function.name and function.arguments (a string)` };
      }
    }
  }
  return undefined;
}

/** Answers every request with the scenario its model names (unknown names: the text scenario). */
export function openAiScript(): UpstreamScript {
  return async (request, res) => {
    const refused = refusal(request);
    if (refused) return sendOpenAiError(res, refused.status, refused.message);
    const model = String(request.body.model);
    const { scenario } = scenarioByModel(model) ?? scenarioByModel('text')!;
    const stream = request.body.stream === true;
    if (scenario.kind === 'http-error') return sendOpenAiError(res, httpStatusFor(scenario, 'openai'));
    if (scenario.kind === 'stream-error') {
      if (!stream) return sendOpenAiError(res, 500);
      return streamError(res, model, scenario);
    }
    if (stream) return streamContent(request, res, model, scenario);
    const text = JSON.stringify(openAiCompletion(model, scenario));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  };
}

export async function startScriptedOpenAi(script: UpstreamScript = openAiScript()): Promise<ScriptedUpstream> {
  return startScriptedUpstream(script);
}
