/**
 * An OpenAI Chat Completions body (as Sluice encodes it for an OpenAI-compatible route) read into
 * what node-llama-cpp's LlamaChat takes: a chat history, functions and sampling options. Only plain
 * data here; the types mirror node-llama-cpp's, which stays an optional dependency.
 */
import { isObject, type JsonObject } from '../../core/json.js';

export type HistoryItem =
  | { type: 'system'; text: string }
  | { type: 'user'; text: string }
  | { type: 'model'; response: (string | FunctionCallItem)[] };

export interface FunctionCallItem {
  type: 'functionCall';
  name: string;
  params: unknown;
  result: unknown;
}

export interface LocalFunction {
  description?: string;
  params?: JsonObject;
}

export interface LocalChatRequest {
  history: HistoryItem[];
  functions: Record<string, LocalFunction> | undefined;
  stream: boolean;
  maxTokens: number | undefined;
  temperature: number | undefined;
  topP: number | undefined;
  seed: number | undefined;
  stop: string[];
}

/** A request a local model cannot serve: answered 400 in OpenAI's shape, never retried. */
export class LocalRequestError extends Error {
  constructor(message: string, readonly param: string | null = null) {
    super(message);
  }
}

export function readChatRequest(body: string): LocalChatRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new LocalRequestError('The request body is not valid JSON.');
  }
  if (!isObject(parsed)) throw new LocalRequestError('The request body must be a JSON object.');
  if (!Array.isArray(parsed.messages) || parsed.messages.length === 0) throw new LocalRequestError('messages must be a non-empty array.', 'messages');
  const n = parsed.n;
  if (n !== undefined && n !== null && n !== 1) throw new LocalRequestError('Local models generate one choice per request (n must be 1).', 'n');
  const format = isObject(parsed.response_format) ? parsed.response_format.type : undefined;
  if (format !== undefined && format !== 'text') throw new LocalRequestError(`response_format ${String(format)} is not supported by local models.`, 'response_format');
  return {
    history: readHistory(parsed.messages),
    functions: parsed.tool_choice === 'none' ? undefined : readFunctions(parsed.tools),
    stream: parsed.stream === true,
    maxTokens: positiveInteger(parsed.max_completion_tokens ?? parsed.max_tokens, 'max_tokens'),
    temperature: numberIn(parsed.temperature, 'temperature', 0, 2),
    topP: numberIn(parsed.top_p, 'top_p', 0, 1),
    seed: parsed.seed === undefined || parsed.seed === null ? undefined : integer(parsed.seed, 'seed'),
    stop: readStop(parsed.stop),
  };
}

function readHistory(messages: unknown[]): HistoryItem[] {
  const history: HistoryItem[] = [];
  // Tool results belong inside the model response that made the call (node-llama-cpp's shape).
  const openCalls = new Map<string, FunctionCallItem>();
  messages.forEach((message, i) => {
    const where = `messages[${i}]`;
    if (!isObject(message)) throw new LocalRequestError(`${where} must be an object.`, where);
    switch (message.role) {
      case 'system':
      case 'developer':
        history.push({ type: 'system', text: textOf(message.content, where) });
        return;
      case 'user':
        history.push({ type: 'user', text: textOf(message.content, where) });
        return;
      case 'assistant': {
        const response: (string | FunctionCallItem)[] = [];
        const text = message.content === null || message.content === undefined ? '' : textOf(message.content, where);
        if (text !== '') response.push(text);
        for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
          const item = readToolCall(call, where);
          response.push(item.call);
          openCalls.set(item.id, item.call);
        }
        history.push({ type: 'model', response });
        return;
      }
      case 'tool': {
        const id = typeof message.tool_call_id === 'string' ? message.tool_call_id : '';
        const call = openCalls.get(id);
        if (call === undefined) throw new LocalRequestError(`${where} answers tool call ${JSON.stringify(id)}, which no earlier assistant message made.`, `${where}.tool_call_id`);
        call.result = textOf(message.content, where);
        openCalls.delete(id);
        return;
      }
      default:
        throw new LocalRequestError(`${where} has an unknown role ${JSON.stringify(message.role)}.`, `${where}.role`);
    }
  });
  return history;
}

function readToolCall(call: unknown, where: string): { id: string; call: FunctionCallItem } {
  const fn = isObject(call) && isObject(call.function) ? call.function : undefined;
  if (!isObject(call) || fn === undefined || typeof fn.name !== 'string') throw new LocalRequestError(`${where}.tool_calls holds a malformed call.`, `${where}.tool_calls`);
  let params: unknown = {};
  if (typeof fn.arguments === 'string' && fn.arguments.trim() !== '') {
    try {
      params = JSON.parse(fn.arguments);
    } catch {
      throw new LocalRequestError(`${where}: the arguments of tool call ${fn.name} are not valid JSON.`, `${where}.tool_calls`);
    }
  }
  return { id: typeof call.id === 'string' ? call.id : '', call: { type: 'functionCall', name: fn.name, params, result: '' } };
}

/** Text content: a string, or text parts (anything else, such as images, a local model cannot take). */
function textOf(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw new LocalRequestError(`${where}.content must be a string or an array of text parts.`, `${where}.content`);
  let text = '';
  for (const part of content) {
    if (!isObject(part) || part.type !== 'text' || typeof part.text !== 'string') {
      const type = isObject(part) ? String(part.type) : typeof part;
      throw new LocalRequestError(`${where}.content holds a ${type} part; local models take text only.`, `${where}.content`);
    }
    text += part.text;
  }
  return text;
}

function readFunctions(tools: unknown): Record<string, LocalFunction> | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw new LocalRequestError('tools must be an array.', 'tools');
  if (tools.length === 0) return undefined;
  const functions: Record<string, LocalFunction> = {};
  tools.forEach((tool, i) => {
    const fn = isObject(tool) && tool.type === 'function' && isObject(tool.function) ? tool.function : undefined;
    if (fn === undefined || typeof fn.name !== 'string' || fn.name === '') throw new LocalRequestError(`tools[${i}] must be a function tool with a name.`, `tools[${i}]`);
    functions[fn.name] = {
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      ...(isObject(fn.parameters) ? { params: fn.parameters } : {}),
    };
  });
  return functions;
}

function readStop(stop: unknown): string[] {
  if (stop === undefined || stop === null) return [];
  if (typeof stop === 'string') return stop === '' ? [] : [stop];
  if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) return stop.filter((s) => s !== '');
  throw new LocalRequestError('stop must be a string or an array of strings.', 'stop');
}

function positiveInteger(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = integer(value, param);
  if (n < 1) throw new LocalRequestError(`${param} must be at least 1.`, param);
  return n;
}

function integer(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new LocalRequestError(`${param} must be an integer.`, param);
  return value;
}

function numberIn(value: unknown, param: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !(value >= min && value <= max)) throw new LocalRequestError(`${param} must be a number from ${min} to ${max}.`, param);
  return value;
}
