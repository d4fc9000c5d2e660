import type { AssistantPart, ChatMessage, ImagePart, TextPart, ToolResultPart, UserPart } from '../../core/chat-request.js';
import { isObject, type JsonObject } from '../../core/json.js';
import { invalidField } from './invalid-field.js';

export interface DecodedMessages {
  system: TextPart[];
  messages: ChatMessage[];
}

/**
 * OpenAI `messages` -> the neutral system prompt and conversation.
 * - system and developer messages become system text in order, wherever they stand: the neutral
 *   model (like Anthropic and Gemini) has one system prompt, so a mid-conversation instruction is
 *   hoisted rather than refused.
 * - consecutive `tool` messages become one user message of tool results, the shape Anthropic and
 *   Gemini require; each result gets the name of the assistant tool call it answers (Gemini's
 *   functionResponse needs it).
 * - empty text parts are dropped: they say nothing, and Anthropic rejects empty text blocks.
 * - message `name`, image `detail` and assistant `refusal` are hints the other protocols cannot
 *   carry; they are ignored.
 */
export function decodeOpenAiMessages(raw: unknown): DecodedMessages {
  if (!Array.isArray(raw) || raw.length === 0) throw invalidField('messages', 'must be a non-empty array of messages');
  const system: TextPart[] = [];
  const messages: ChatMessage[] = [];
  const toolNames = new Map<string, string>();
  // The user message being filled by a run of consecutive tool messages.
  let toolResults: ToolResultPart[] | undefined;
  for (let i = 0; i < raw.length; i++) {
    const message: unknown = raw[i];
    const at = `messages[${i}]`;
    if (!isObject(message)) throw invalidField(at, 'must be an object');
    if (message.role !== 'tool') toolResults = undefined;
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(message.content, `${at}.content`));
        break;
      case 'user':
        messages.push({ role: 'user', content: userParts(message.content, `${at}.content`) });
        break;
      case 'assistant':
        messages.push({ role: 'assistant', content: assistantParts(message, at, toolNames) });
        break;
      case 'tool': {
        const part = toolResult(message, at, toolNames);
        if (toolResults === undefined) {
          toolResults = [part];
          messages.push({ role: 'user', content: toolResults });
        } else {
          toolResults.push(part);
        }
        break;
      }
      case 'function':
        throw invalidField(`${at}.role`, "legacy 'function' messages cannot be translated for this model; use 'tool' messages");
      default:
        throw invalidField(`${at}.role`, "expected one of 'system', 'developer', 'user', 'assistant', 'tool'");
    }
  }
  return { system, messages };
}

/** String or text-part content (system, developer, tool). */
function textParts(content: unknown, at: string): TextPart[] {
  if (typeof content === 'string') return text(content);
  if (!Array.isArray(content)) throw invalidField(at, 'must be a string or an array of text parts');
  const parts: TextPart[] = [];
  content.forEach((part: unknown, j) => {
    if (!isObject(part) || part.type !== 'text') throw invalidField(`${at}[${j}].type`, "only 'text' parts are allowed here");
    parts.push(...textOf(part, `${at}[${j}]`));
  });
  return parts;
}

function userParts(content: unknown, at: string): UserPart[] {
  if (typeof content === 'string') return text(content);
  if (!Array.isArray(content)) throw invalidField(at, 'must be a string or an array of content parts');
  const parts: UserPart[] = [];
  content.forEach((part: unknown, j) => {
    const partAt = `${at}[${j}]`;
    if (!isObject(part)) throw invalidField(partAt, 'must be an object');
    switch (part.type) {
      case 'text':
        parts.push(...textOf(part, partAt));
        break;
      case 'image_url':
        parts.push(imagePart(part, partAt));
        break;
      case 'input_audio':
      case 'file':
        throw invalidField(`${partAt}.type`, `'${part.type}' parts cannot be translated for this model`);
      default:
        throw invalidField(`${partAt}.type`, "expected 'text' or 'image_url'");
    }
  });
  return parts;
}

/** A data: URL becomes inline base64 (what Anthropic and Gemini want); http(s) stays a URL. */
function imagePart(part: JsonObject, at: string): ImagePart {
  const ref = part.image_url;
  const url = isObject(ref) ? ref.url : ref; // a bare string is what some clients send
  const urlAt = isObject(ref) ? `${at}.image_url.url` : `${at}.image_url`;
  if (typeof url !== 'string') throw invalidField(urlAt, 'must be a string');
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { kind: 'url', url } };
  const data = /^data:([^;,]+)((?:;[^;,]*)*),/i.exec(url);
  if (data?.[1] === undefined || !(data[2] ?? '').toLowerCase().split(';').includes('base64')) {
    throw invalidField(urlAt, 'must be an http(s) URL or a base64 data: URL');
  }
  return { type: 'image', source: { kind: 'base64', mediaType: data[1], data: url.slice(data[0].length) } };
}

/**
 * Reasoning first (it came before the answer), then text, then tool calls: the order the
 * Anthropic and Gemini encoders replay blocks in. Reasoning from another vendor carries no
 * signature, so it is plain text to every family.
 */
function assistantParts(message: JsonObject, at: string, toolNames: Map<string, string>): AssistantPart[] {
  if (message.function_call !== undefined && message.function_call !== null) {
    throw invalidField(`${at}.function_call`, "legacy function calls cannot be translated for this model; use 'tool_calls'");
  }
  if (message.audio !== undefined && message.audio !== null) throw invalidField(`${at}.audio`, 'audio answers cannot be translated for this model');
  const parts: AssistantPart[] = [];
  const reasoning = typeof message.reasoning_content === 'string' ? message.reasoning_content : message.reasoning;
  if (typeof reasoning === 'string' && reasoning !== '') parts.push({ type: 'reasoning', text: reasoning });
  const content = message.content;
  if (typeof content === 'string') parts.push(...text(content));
  else if (Array.isArray(content)) {
    content.forEach((part: unknown, j) => {
      const partAt = `${at}.content[${j}]`;
      if (isObject(part) && part.type === 'text') parts.push(...textOf(part, partAt));
      else if (!isObject(part) || part.type !== 'refusal') throw invalidField(`${partAt}.type`, "expected 'text' or 'refusal'");
    });
  } else if (content !== undefined && content !== null) {
    throw invalidField(`${at}.content`, 'must be a string, an array of content parts or null');
  }
  const calls = message.tool_calls;
  if (calls === undefined || calls === null) return parts;
  if (!Array.isArray(calls)) throw invalidField(`${at}.tool_calls`, 'must be an array');
  calls.forEach((call: unknown, j) => {
    const callAt = `${at}.tool_calls[${j}]`;
    if (!isObject(call)) throw invalidField(callAt, 'must be an object');
    if (call.type !== undefined && call.type !== 'function') throw invalidField(`${callAt}.type`, "only 'function' tool calls can be translated for this model");
    if (typeof call.id !== 'string' || call.id === '') throw invalidField(`${callAt}.id`, 'must be a non-empty string');
    const fn = call.function;
    if (!isObject(fn)) throw invalidField(`${callAt}.function`, 'must be an object');
    if (typeof fn.name !== 'string' || fn.name === '') throw invalidField(`${callAt}.function.name`, 'must be a non-empty string');
    if (typeof fn.arguments !== 'string') throw invalidField(`${callAt}.function.arguments`, 'must be a string of JSON');
    toolNames.set(call.id, fn.name);
    parts.push({ type: 'tool-call', id: call.id, name: fn.name, arguments: fn.arguments });
  });
  return parts;
}

function toolResult(message: JsonObject, at: string, toolNames: Map<string, string>): ToolResultPart {
  const id = message.tool_call_id;
  if (typeof id !== 'string' || id === '') throw invalidField(`${at}.tool_call_id`, 'must be a non-empty string');
  const part: ToolResultPart = { type: 'tool-result', toolCallId: id, content: textParts(message.content, `${at}.content`) };
  const name = toolNames.get(id);
  if (name !== undefined) part.name = name;
  return part;
}

function textOf(part: JsonObject, at: string): TextPart[] {
  if (typeof part.text !== 'string') throw invalidField(`${at}.text`, 'must be a string');
  return text(part.text);
}

function text(value: string): TextPart[] {
  return value === '' ? [] : [{ type: 'text', text: value }];
}
