import type { NeutralRequest, ReasoningRequest, ResponseFormat, ToolChoice, ToolDefinition } from '../../core/chat-request.js';
import { GatewayError } from '../../core/gateway-error.js';
import { isObject, type JsonObject } from '../../core/json.js';
import { invalidField } from './invalid-field.js';
import { decodeOpenAiMessages } from './neutral-messages-decode.js';

/**
 * Fields the neutral model cannot carry. Policy: what would change the answer and cannot be
 * honoured by another protocol is refused with a 400 naming the field, so the client never gets
 * a silently different answer (n > 1, logprobs, audio, legacy functions, predicted outputs,
 * penalties, logit bias, web search). A value that asks for nothing (n = 1, logprobs false,
 * penalties 0, an empty logit_bias, text-only modalities) is accepted. Pure hints (seed, store,
 * metadata, service_tier, prompt_cache_key, safety_identifier, verbosity, stream_options other
 * than include_usage, tool `strict`, vendor fields) are accepted and not forwarded.
 */
const untranslatable: ReadonlyArray<{ field: string; refuses: (value: unknown) => boolean; reason: string }> = [
  { field: 'n', refuses: (v) => present(v) && v !== 1, reason: 'only one choice (n = 1) can be translated for this model' },
  { field: 'logprobs', refuses: (v) => v === true, reason: 'log probabilities are not available for this model' },
  { field: 'top_logprobs', refuses: (v) => typeof v === 'number' && v > 0, reason: 'log probabilities are not available for this model' },
  { field: 'audio', refuses: present, reason: 'audio output is not available for this model' },
  { field: 'modalities', refuses: (v) => Array.isArray(v) && v.some((m) => m !== 'text'), reason: 'only text output is available for this model' },
  { field: 'functions', refuses: present, reason: "legacy functions cannot be translated for this model; use 'tools'" },
  { field: 'function_call', refuses: present, reason: "legacy function_call cannot be translated for this model; use 'tool_choice'" },
  { field: 'prediction', refuses: present, reason: 'predicted outputs are not available for this model' },
  { field: 'frequency_penalty', refuses: nonZero, reason: 'penalties are not available for this model' },
  { field: 'presence_penalty', refuses: nonZero, reason: 'penalties are not available for this model' },
  { field: 'logit_bias', refuses: (v) => isObject(v) && Object.keys(v).length > 0, reason: 'logit bias is not available for this model' },
  { field: 'web_search_options', refuses: present, reason: 'web search is not available for this model' },
];

const efforts = ['minimal', 'low', 'medium', 'high'] as const;

/**
 * An OpenAI Chat Completions client request in neutral form, for a route that speaks another
 * protocol. The body has been checked by decodeChatRequest, but it is read here as unknown all
 * the same, and every fault names its field.
 */
export function decodeOpenAiNeutralRequest(payload: unknown): NeutralRequest {
  if (!isObject(payload)) throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
  for (const { field, refuses, reason } of untranslatable) {
    if (refuses(payload[field])) throw invalidField(field, reason);
  }
  const model = payload.model;
  if (typeof model !== 'string' || model === '') throw invalidField('model', 'must be a non-empty string');
  const { system, messages } = decodeOpenAiMessages(payload.messages);
  const stream = optional(payload, 'stream', 'boolean') === true;
  const streamOptions = payload.stream_options;
  const request: NeutralRequest = {
    model,
    system,
    messages,
    tools: decodeTools(payload.tools),
    stopSequences: decodeStop(payload.stop),
    stream,
    includeUsage: stream && isObject(streamOptions) && streamOptions.include_usage === true,
  };
  const toolChoice = decodeToolChoice(payload.tool_choice);
  if (toolChoice !== undefined) request.toolChoice = toolChoice;
  const parallel = optional(payload, 'parallel_tool_calls', 'boolean');
  if (parallel !== undefined) request.parallelToolCalls = parallel;
  const maxTokens = maxTokensOf(payload);
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  const temperature = optional(payload, 'temperature', 'number');
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optional(payload, 'top_p', 'number');
  if (topP !== undefined) request.topP = topP;
  // Not OpenAI, but what clients written for vLLM and other servers send; Anthropic and Gemini honour it.
  const topK = optional(payload, 'top_k', 'number');
  if (topK !== undefined) request.topK = topK;
  const responseFormat = decodeResponseFormat(payload.response_format);
  if (responseFormat !== undefined) request.responseFormat = responseFormat;
  const reasoning = decodeReasoningEffort(payload.reasoning_effort);
  if (reasoning !== undefined) request.reasoning = reasoning;
  const user = optional(payload, 'user', 'string');
  if (user !== undefined && user !== '') request.user = user;
  return request;
}

function decodeTools(raw: unknown): ToolDefinition[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidField('tools', 'must be an array');
  return raw.map((tool: unknown, i): ToolDefinition => {
    const at = `tools[${i}]`;
    if (!isObject(tool)) throw invalidField(at, 'must be an object');
    if (tool.type !== 'function') throw invalidField(`${at}.type`, "only 'function' tools can be translated for this model");
    const fn = tool.function;
    if (!isObject(fn)) throw invalidField(`${at}.function`, 'must be an object');
    if (typeof fn.name !== 'string' || fn.name === '') throw invalidField(`${at}.function.name`, 'must be a non-empty string');
    const parameters = fn.parameters ?? { type: 'object', properties: {} };
    if (!isObject(parameters)) throw invalidField(`${at}.function.parameters`, 'must be a JSON Schema object');
    const definition: ToolDefinition = { name: fn.name, parameters };
    if (typeof fn.description === 'string' && fn.description !== '') definition.description = fn.description;
    return definition;
  });
}

function decodeToolChoice(raw: unknown): ToolChoice | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (raw === 'auto' || raw === 'none' || raw === 'required') return { type: raw };
  if (!isObject(raw)) throw invalidField('tool_choice', "expected 'auto', 'none', 'required' or a function");
  if (raw.type !== 'function') throw invalidField('tool_choice.type', "only 'function' can be translated for this model");
  const fn = raw.function;
  if (!isObject(fn) || typeof fn.name !== 'string' || fn.name === '') throw invalidField('tool_choice.function.name', 'must be a non-empty string');
  return { type: 'tool', name: fn.name };
}

function decodeStop(raw: unknown): string[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw === 'string') return raw === '' ? [] : [raw];
  if (!Array.isArray(raw)) throw invalidField('stop', 'must be a string or an array of strings');
  return raw.filter((s: unknown, i): s is string => {
    if (typeof s !== 'string') throw invalidField(`stop[${i}]`, 'must be a string');
    return s !== '';
  });
}

function maxTokensOf(body: JsonObject): number | undefined {
  for (const field of ['max_completion_tokens', 'max_tokens']) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalidField(field, 'must be a positive integer');
    return value;
  }
  return undefined;
}

function decodeResponseFormat(raw: unknown): ResponseFormat | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw invalidField('response_format', 'must be an object');
  if (raw.type === 'text' || raw.type === 'json_object') return { type: raw.type };
  if (raw.type !== 'json_schema') throw invalidField('response_format.type', "expected 'text', 'json_object' or 'json_schema'");
  const spec = raw.json_schema;
  if (!isObject(spec)) throw invalidField('response_format.json_schema', 'must be an object');
  if (typeof spec.name !== 'string' || spec.name === '') throw invalidField('response_format.json_schema.name', 'must be a non-empty string');
  const schema = spec.schema ?? {};
  if (!isObject(schema)) throw invalidField('response_format.json_schema.schema', 'must be a JSON Schema object');
  const format: ResponseFormat = { type: 'json_schema', name: spec.name, schema };
  if (typeof spec.strict === 'boolean') format.strict = spec.strict;
  if (typeof spec.description === 'string') format.description = spec.description;
  return format;
}

/** `none` turns reasoning off; `xhigh` (newest OpenAI models) is the most the neutral scale says. */
function decodeReasoningEffort(raw: unknown): ReasoningRequest | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (raw === 'none') return { type: 'disabled' };
  if (raw === 'xhigh') return { type: 'effort', effort: 'high' };
  const effort = efforts.find((e) => e === raw);
  if (effort === undefined) throw invalidField('reasoning_effort', "expected 'none', 'minimal', 'low', 'medium' or 'high'");
  return { type: 'effort', effort };
}

interface TypeOfResult {
  boolean: boolean;
  number: number;
  string: string;
}

/** A scalar field of the given type, undefined when absent or null; a 400 for another type. */
function optional<K extends keyof TypeOfResult>(body: JsonObject, field: string, type: K): TypeOfResult[K] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type || (type === 'number' && !Number.isFinite(value))) throw invalidField(field, `must be a ${type}`);
  return value as TypeOfResult[K];
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function nonZero(value: unknown): boolean {
  return present(value) && value !== 0;
}
