import type { AssistantPart, ChatMessage, ImageSource, TextPart, ImagePart, UserPart } from '../../core/chat-request.js';
import { GatewayError } from '../../core/gateway-error.js';
import { isObject, type JsonObject } from '../../core/json.js';

/** One Anthropic message as sent upstream. */
export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: JsonObject[];
}

/**
 * Neutral messages -> Anthropic `messages`. Three of Anthropic's rules shape this:
 * - Reasoning is only replayed when Anthropic itself signed it (thinking with the byte-exact
 *   signature, redacted thinking as it came). Unsigned reasoning, or reasoning another provider
 *   signed, is dropped: Anthropic verifies signatures, and Sluice never forges one.
 * - A message whose every part was dropped is left out (Anthropic refuses empty content), and
 *   consecutive messages of one role are merged, which Anthropic would do anyway.
 * - In a user message, tool_result blocks must come before any other block, so they are moved
 *   to the front (their relative order, and that of the rest, is kept).
 */
export function encodeAnthropicMessages(messages: ChatMessage[]): AnthropicMessage[] {
  const out: AnthropicMessage[] = [];
  for (const message of messages) {
    const content = message.role === 'user' ? message.content.map(userBlock) : message.content.flatMap(assistantBlock);
    if (content.length === 0) continue;
    const previous = out.at(-1);
    if (previous !== undefined && previous.role === message.role) previous.content.push(...content);
    else out.push({ role: message.role, content });
  }
  for (const message of out) {
    if (message.role === 'user') message.content = toolResultsFirst(message.content);
  }
  return out;
}

/**
 * With thinking on, Anthropic requires the assistant message a tool loop continues from to start
 * with a thinking block. When that turn came from another provider (no Anthropic thinking to
 * replay), thinking cannot be enabled for this request.
 */
export function toolLoopLacksThinking(messages: AnthropicMessage[]): boolean {
  const last = messages.at(-1);
  const assistant = messages.at(-2);
  if (last?.role !== 'user' || assistant?.role !== 'assistant') return false;
  if (!last.content.some((block) => block.type === 'tool_result')) return false;
  const first = assistant.content[0];
  return first?.type !== 'thinking' && first?.type !== 'redacted_thinking';
}

function userBlock(part: UserPart): JsonObject {
  switch (part.type) {
    case 'text':
      return textBlock(part);
    case 'image':
      return imageBlock(part);
    case 'tool-result': {
      const block: JsonObject = { type: 'tool_result', tool_use_id: part.toolCallId };
      if (part.content.length > 0) block.content = part.content.map((inner) => (inner.type === 'text' ? textBlock(inner) : imageBlock(inner)));
      if (part.isError === true) block.is_error = true;
      return block;
    }
  }
}

function assistantBlock(part: AssistantPart): JsonObject[] {
  switch (part.type) {
    case 'text':
      // Anthropic refuses empty text blocks; an empty one says nothing anyway.
      return part.text === '' ? [] : [textBlock(part)];
    case 'tool-call':
      return [{ type: 'tool_use', id: part.id, name: part.name, input: toolInput(part.id, part.name, part.arguments) }];
    case 'reasoning':
      if (part.signature?.family !== 'anthropic' || part.signature.value === '') return [];
      return [{ type: 'thinking', thinking: part.text, signature: part.signature.value }];
    case 'redacted-reasoning':
      return part.family === 'anthropic' ? [{ type: 'redacted_thinking', data: part.data }] : [];
  }
}

function textBlock(part: TextPart): JsonObject {
  return { type: 'text', text: part.text };
}

function imageBlock(part: ImagePart): JsonObject {
  return { type: 'image', source: imageSource(part.source) };
}

const dataUrl = /^data:([^;,]+);base64,(.*)$/s;

/** Anthropic's url source fetches http(s) only; a data: URL (OpenAI clients) becomes base64. */
function imageSource(source: ImageSource): JsonObject {
  if (source.kind === 'base64') return { type: 'base64', media_type: source.mediaType, data: source.data };
  if (!source.url.startsWith('data:')) return { type: 'url', url: source.url };
  const match = dataUrl.exec(source.url);
  if (match === null) throw new GatewayError('invalid_request', 'An image data URL must have the form data:<media type>;base64,<data>.');
  return { type: 'base64', media_type: match[1], data: match[2] };
}

/** Anthropic wants the arguments as a JSON object, not as the text the model produced. */
function toolInput(id: string, name: string, args: string): JsonObject {
  if (args.trim() === '') return {};
  let input: unknown;
  try {
    input = JSON.parse(args);
  } catch {
    throw new GatewayError('invalid_request', `The arguments of tool call '${id}' (${name}) in the conversation are not valid JSON, which Anthropic cannot accept.`);
  }
  if (!isObject(input)) throw new GatewayError('invalid_request', `The arguments of tool call '${id}' (${name}) in the conversation are not a JSON object, which Anthropic requires.`);
  return input;
}

function toolResultsFirst(content: JsonObject[]): JsonObject[] {
  const results = content.filter((block) => block.type === 'tool_result');
  if (results.length === 0 || results.length === content.length) return content;
  return [...results, ...content.filter((block) => block.type !== 'tool_result')];
}
