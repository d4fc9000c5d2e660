/**
 * A scripted Gemini upstream on loopback, in Gemini's exact wire format (shared/reference/
 * wire-formats.md section 4): `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` answered
 * with `data: <GenerateContentResponse>\r\n\r\n` events (CRLF framing, no event lines, no [DONE]:
 * the stream ends at EOF), `:generateContent` answered with one JSON object. Text parts, thought
 * parts (`thought: true`), `functionCall` parts whole and without ids (two in one chunk, or one
 * per chunk), `thoughtSignature` on the first function call after thinking and, as Gemini 3 does,
 * on the (last, possibly empty) text part of a plain answer, cumulative
 * `usageMetadata` on every chunk (promptTokenCount includes cachedContentTokenCount;
 * thoughtsTokenCount is apart from candidatesTokenCount), `finishReason` on the last chunk only.
 * Errors: `{"error":{"code","message","status"}}`, as HTTP bodies and in-band.
 */
import type { ServerResponse } from 'node:http';
import { writeInPieces } from './write-pieces.js';
import { startScriptedUpstream, sleep, type ScriptedUpstream, type UpstreamRequest, type UpstreamScript } from './scripted-upstream.js';
import {
  expressibleUsage, geminiThoughtSignature, httpStatusFor, scenarioByModel, upstreamKeys,
  type ContentScenario, type StreamErrorScenario,
} from './scenarios.js';

export interface ScriptedGemini extends ScriptedUpstream {
  /** The base URL Sluice is configured with: `<origin>/v1beta`. */
  geminiBase: string;
}

export const geminiSseHeaders = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

/** One Gemini SSE event, CRLF-framed as Google's servers do. */
export function geminiFrame(payload: Record<string, unknown>): string {
  return `data: ${JSON.stringify(payload)}\r\n\r\n`;
}

const statusNames: Record<number, [string, string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  401: ['UNAUTHENTICATED', 'API key not valid. Please pass a valid API key.'],
  404: ['NOT_FOUND', 'Requested entity was not found.'],
  429: ['RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details.'],
  500: ['INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting'],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later.'],
};

export function geminiErrorBody(code: number, message?: string): Record<string, unknown> {
  const [status, defaultMessage] = statusNames[code] ?? ['UNKNOWN', 'Unknown error'];
  const error: Record<string, unknown> = { code, message: message ?? defaultMessage, status };
  if (code === 429) error.details = [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '34s' }];
  return { error };
}

export function sendGeminiError(res: ServerResponse, code: number, message?: string): void {
  const text = JSON.stringify(geminiErrorBody(code, message), null, 2);
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

const finishReasons = { stop: 'STOP', length: 'MAX_TOKENS', tool_calls: 'STOP' } as const;

function usageMetadata(scenario: ContentScenario, final: boolean, outputSoFar: number): Record<string, unknown> {
  const u = expressibleUsage(scenario.usage, 'gemini');
  const candidates = final ? u.output - u.reasoning : Math.min(outputSoFar, u.output - u.reasoning);
  const thoughts = u.reasoning;
  const out: Record<string, unknown> = {
    promptTokenCount: u.input,
    candidatesTokenCount: candidates,
    totalTokenCount: u.input + candidates + thoughts,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: u.input }],
  };
  if (u.cacheRead > 0) {
    out.cachedContentTokenCount = u.cacheRead;
    out.cacheTokensDetails = [{ modality: 'TEXT', tokenCount: u.cacheRead }];
  }
  if (thoughts > 0) out.thoughtsTokenCount = thoughts;
  return out;
}

/** The GenerateContentResponse chunks of a content scenario, in order (finishReason on the last). */
export function geminiContentChunks(model: string, scenario: ContentScenario): Record<string, unknown>[] {
  const partsPerChunk: Record<string, unknown>[][] = [];
  for (const piece of scenario.reasoning ?? []) partsPerChunk.push([{ text: piece, thought: true }]);
  for (const piece of scenario.text ?? []) partsPerChunk.push([{ text: piece }]);
  const calls = (scenario.tools ?? []).map((tool, i) => {
    const part: Record<string, unknown> = { functionCall: { name: tool.name, args: tool.args } };
    // Thinking models sign the first function call of a turn.
    if (i === 0 && scenario.reasoning) part.thoughtSignature = geminiThoughtSignature;
    return part;
  });
  if (calls.length > 0) {
    if (scenario.geminiSplitCalls) for (const call of calls) partsPerChunk.push([call]);
    else partsPerChunk.push(calls);
  } else if (!scenario.reasoning) {
    // Gemini 3 signs a plain answer too: an empty text part carrying the thoughtSignature ends it.
    partsPerChunk.push([{ text: '', thoughtSignature: geminiThoughtSignature }]);
  }
  return partsPerChunk.map((parts, i) => {
    const last = i === partsPerChunk.length - 1;
    const candidate: Record<string, unknown> = { content: { parts, role: 'model' }, index: 0 };
    if (last) candidate.finishReason = finishReasons[scenario.finish];
    return { candidates: [candidate], usageMetadata: usageMetadata(scenario, last, i + 1), modelVersion: model, responseId: 'resp-scripted-gemini-1' };
  });
}

/** The non-streamed GenerateContentResponse of a content scenario. */
export function geminiResponse(model: string, scenario: ContentScenario): Record<string, unknown> {
  const parts: Record<string, unknown>[] = [];
  if (scenario.reasoning) parts.push({ text: scenario.reasoning.join(''), thought: true });
  if (scenario.text) {
    // Gemini 3 signs a plain answer on its text part.
    const signed = !scenario.reasoning && !scenario.tools;
    parts.push({ text: scenario.text.join(''), ...(signed ? { thoughtSignature: geminiThoughtSignature } : {}) });
  }
  (scenario.tools ?? []).forEach((tool, i) => {
    const part: Record<string, unknown> = { functionCall: { name: tool.name, args: tool.args } };
    if (i === 0 && scenario.reasoning) part.thoughtSignature = geminiThoughtSignature;
    parts.push(part);
  });
  return {
    candidates: [{ content: { parts, role: 'model' }, finishReason: finishReasons[scenario.finish], index: 0 }],
    usageMetadata: usageMetadata(scenario, true, 0),
    modelVersion: model,
    responseId: 'resp-scripted-gemini-1',
  };
}

/** Each frame arrives in pieces (see write-pieces.ts). */
const write = writeInPieces;

async function streamContent(request: UpstreamRequest, res: ServerResponse, model: string, scenario: ContentScenario): Promise<void> {
  res.writeHead(200, geminiSseHeaders);
  if (scenario.firstTokenDelayMs) {
    // Google sends its head at once and the first event when the model has something.
    res.flushHeaders();
    await Promise.race([sleep(scenario.firstTokenDelayMs), request.closed]);
  }
  for (const chunk of geminiContentChunks(model, scenario)) await write(res, geminiFrame(chunk));
  res.end();
}

async function streamError(res: ServerResponse, model: string, scenario: StreamErrorScenario): Promise<void> {
  res.writeHead(200, geminiSseHeaders);
  for (const piece of scenario.textBefore) {
    await write(res, geminiFrame({
      candidates: [{ content: { parts: [{ text: piece }], role: 'model' }, index: 0 }],
      usageMetadata: { promptTokenCount: 11, candidatesTokenCount: 1, totalTokenCount: 12 },
      modelVersion: model,
      responseId: 'resp-scripted-gemini-err',
    }));
  }
  await write(res, geminiFrame(scenario.textBefore.length > 0 ? geminiErrorBody(500) : geminiErrorBody(503)));
  res.end();
}

const pathPattern = /^\/v1beta\/models\/([^/:?]+):(streamGenerateContent|generateContent)(\?alt=sse)?$/;

/** Like the real API: 404 off the model paths, 401 without x-goog-api-key, 400 for a malformed body. */
function refusal(request: UpstreamRequest): { status: number; message: string } | undefined {
  const match = pathPattern.exec(request.path);
  if (request.method !== 'POST' || match === null) return { status: 404, message: `Not found: ${request.method} ${request.path}` };
  if (match[2] === 'streamGenerateContent' && match[3] === undefined) return { status: 400, message: 'scripted upstream: streams must be requested with ?alt=sse' };
  if (request.headers['x-goog-api-key'] !== upstreamKeys.gemini) return { status: 401, message: 'API key not valid. Please pass a valid API key.' };
  const body = request.body;
  if ('unparsable' in body) return { status: 400, message: 'Invalid JSON payload received.' };
  if (!Array.isArray(body.contents) || body.contents.length === 0) return { status: 400, message: '* GenerateContentRequest.contents: contents is not specified' };
  for (const [i, content] of (body.contents as Record<string, unknown>[]).entries()) {
    if (content.role !== 'user' && content.role !== 'model') return { status: 400, message: `Please use a valid role: user, model. (contents[${i}].role = ${JSON.stringify(content.role)})` };
    if (!Array.isArray(content.parts) || content.parts.length === 0) return { status: 400, message: `contents[${i}].parts must not be empty` };
  }
  for (const key of ['messages', 'model', 'max_tokens', 'system']) {
    if (key in body) return { status: 400, message: `Invalid JSON payload received. Unknown name "${key}": Cannot find field.` };
  }
  return undefined;
}

/** Answers every request with the scenario its model (in the URL) names (unknown: the text scenario). */
export function geminiScript(): UpstreamScript {
  return async (request, res) => {
    const refused = refusal(request);
    if (refused) return sendGeminiError(res, refused.status, refused.message);
    const [, model = '', method] = pathPattern.exec(request.path) ?? [];
    const { scenario } = scenarioByModel(model) ?? scenarioByModel('text')!;
    const stream = method === 'streamGenerateContent';
    if (scenario.kind === 'http-error') return sendGeminiError(res, httpStatusFor(scenario, 'gemini'));
    if (scenario.kind === 'stream-error') {
      if (!stream) return sendGeminiError(res, 500);
      return streamError(res, model, scenario);
    }
    if (stream) return streamContent(request, res, model, scenario);
    const text = JSON.stringify(geminiResponse(model, scenario), null, 2);
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  };
}

export async function startScriptedGemini(script: UpstreamScript = geminiScript()): Promise<ScriptedGemini> {
  const upstream = await startScriptedUpstream(script);
  return Object.assign(upstream, { geminiBase: upstream.baseUrl.replace(/\/v1$/, '/v1beta') });
}
