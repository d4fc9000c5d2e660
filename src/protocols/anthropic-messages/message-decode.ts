import { z } from 'zod';
import type { AssistantPart, ChatMessage, ImagePart, TextPart, UserPart } from '../../core/chat-request.js';
import { isObject } from '../../core/json.js';
import { fieldPath, invalidField, parseField, untranslatable } from './request-field.js';

/**
 * Anthropic `system` and `messages` -> neutral system parts and messages. Blocks are loose objects
 * (`cache_control` and the nulls an SDK echoes back from a response are fine); every block type
 * the neutral model cannot carry is refused by name instead of being dropped.
 */

const textBlock = z.looseObject({
  type: z.literal('text'),
  text: z.string(),
  citations: z.array(z.unknown()).nullish(),
});
const base64Source = z.looseObject({ type: z.literal('base64'), media_type: z.string().min(1), data: z.string() });
const urlSource = z.looseObject({ type: z.literal('url'), url: z.string().min(1) });
const toolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});
const toolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.unknown())]).optional(),
  is_error: z.boolean().nullish(),
});
// A missing signature is accepted: a thinking block an Anthropic client got from a translated
// answer (another provider's reasoning) carries none, and the client sends it back as it was.
const thinkingBlock = z.looseObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string().nullish() });
const redactedThinkingBlock = z.looseObject({ type: z.literal('redacted_thinking'), data: z.string() });

const messageShape = z.looseObject({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), z.array(z.unknown())]),
});

/** `system` as a string or text blocks. */
export function decodeSystem(value: unknown, path: string): TextPart[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value === '' ? [] : [{ type: 'text', text: value }];
  if (!Array.isArray(value)) throw invalidField(path, 'expected a string or an array of text blocks');
  return value.map((block: unknown, i) => decodeText(block, fieldPath(path, i)));
}

/**
 * The conversation. `role: "system"` entries (allowed by SDK >= 0.137) are appended to `system`,
 * in order, since the neutral model keeps the system prompt apart from the turns.
 */
export function decodeMessages(value: unknown, system: TextPart[]): ChatMessage[] {
  if (!Array.isArray(value)) throw invalidField('messages', 'expected an array of messages');
  if (value.length === 0) throw invalidField('messages', 'must contain at least one message');
  const messages: ChatMessage[] = [];
  value.forEach((raw: unknown, i) => {
    const path = fieldPath('messages', i);
    const message = parseField(messageShape, raw, path);
    const contentPath = fieldPath(path, 'content');
    if (message.role === 'system') {
      system.push(...decodeSystem(message.content, contentPath));
      return;
    }
    const blocks = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    if (message.role === 'user') {
      messages.push({ role: 'user', content: blocks.map((block, j) => decodeUserBlock(block, fieldPath(contentPath, j))) });
    } else {
      messages.push({ role: 'assistant', content: blocks.map((block, j) => decodeAssistantBlock(block, fieldPath(contentPath, j))) });
    }
  });
  if (messages.length === 0) throw invalidField('messages', 'must contain at least one user or assistant message');
  return messages;
}

function blockType(block: unknown, path: string): string {
  if (!isObject(block)) throw invalidField(path, 'expected a content block object');
  if (typeof block.type !== 'string') throw invalidField(fieldPath(path, 'type'), 'this field is required');
  return block.type;
}

function decodeUserBlock(block: unknown, path: string): UserPart {
  const type = blockType(block, path);
  switch (type) {
    case 'text':
      return decodeText(block, path);
    case 'image':
      return decodeImage(block, path);
    case 'tool_result': {
      const result = parseField(toolResultBlock, block, path);
      const contentPath = fieldPath(path, 'content');
      let content: Array<TextPart | ImagePart> = [];
      if (typeof result.content === 'string') content = result.content === '' ? [] : [{ type: 'text', text: result.content }];
      else if (result.content !== undefined) content = result.content.map((inner, k) => decodeToolResultBlock(inner, fieldPath(contentPath, k)));
      return { type: 'tool-result', toolCallId: result.tool_use_id, content, ...(result.is_error === true ? { isError: true } : {}) };
    }
    case 'tool_use':
    case 'thinking':
    case 'redacted_thinking':
      throw invalidField(fieldPath(path, 'type'), `'${type}' blocks are only allowed in assistant messages`);
    default:
      throw untranslatable(fieldPath(path, 'type'), `a '${type}' content block`);
  }
}

function decodeAssistantBlock(block: unknown, path: string): AssistantPart {
  const type = blockType(block, path);
  switch (type) {
    case 'text':
      return decodeText(block, path);
    case 'tool_use': {
      const call = parseField(toolUseBlock, block, path);
      return { type: 'tool-call', id: call.id, name: call.name, arguments: JSON.stringify(call.input) };
    }
    case 'thinking': {
      const thinking = parseField(thinkingBlock, block, path);
      // An empty signature is no signature: it would be refused by Anthropic, never verified.
      const signature = thinking.signature ? { family: 'anthropic' as const, value: thinking.signature } : undefined;
      return { type: 'reasoning', text: thinking.thinking, ...(signature ? { signature } : {}) };
    }
    case 'redacted_thinking':
      return { type: 'redacted-reasoning', data: parseField(redactedThinkingBlock, block, path).data, family: 'anthropic' };
    case 'image':
    case 'tool_result':
      throw invalidField(fieldPath(path, 'type'), `'${type}' blocks are only allowed in user messages`);
    default:
      throw untranslatable(fieldPath(path, 'type'), `a '${type}' content block`);
  }
}

function decodeToolResultBlock(block: unknown, path: string): TextPart | ImagePart {
  const type = blockType(block, path);
  if (type === 'text') return decodeText(block, path);
  if (type === 'image') return decodeImage(block, path);
  throw untranslatable(fieldPath(path, 'type'), `a '${type}' block inside a tool result`);
}

function decodeText(block: unknown, path: string): TextPart {
  const text = parseField(textBlock, block, path);
  // Citations point into documents or search results, which a translated request cannot carry.
  if (text.citations && text.citations.length > 0) throw untranslatable(fieldPath(path, 'citations'), 'a text block with citations');
  return { type: 'text', text: text.text };
}

function decodeImage(block: unknown, path: string): ImagePart {
  if (!isObject(block)) throw invalidField(path, 'expected a content block object');
  const sourcePath = fieldPath(path, 'source');
  const source = block.source;
  if (!isObject(source)) throw invalidField(sourcePath, 'this field is required');
  switch (source.type) {
    case 'base64': {
      const parsed = parseField(base64Source, source, sourcePath);
      return { type: 'image', source: { kind: 'base64', mediaType: parsed.media_type, data: parsed.data } };
    }
    case 'url':
      return { type: 'image', source: { kind: 'url', url: parseField(urlSource, source, sourcePath).url } };
    case 'file':
      // A Files API id only means something to Anthropic's own storage.
      throw untranslatable(fieldPath(sourcePath, 'type'), "an image given by 'file' source");
    default:
      throw invalidField(fieldPath(sourcePath, 'type'), 'expected one of "base64", "url"');
  }
}
