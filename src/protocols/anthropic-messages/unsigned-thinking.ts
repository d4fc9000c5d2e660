import { isObject, type JsonObject } from '../../core/json.js';

/**
 * Thinking blocks without a signature in assistant history: Sluice itself gives them to Anthropic
 * clients when the reasoning came from another provider family (a signature is never forged).
 * Anthropic refuses such blocks, so before a body passes through to an Anthropic upstream they
 * are removed; everything else in the body is left as the client sent it. Returns the body
 * itself when there is nothing to remove (the common case costs one scan, no copy).
 */
export function dropUnsignedThinking(body: JsonObject): JsonObject {
  const messages = body.messages;
  if (!Array.isArray(messages) || !messages.some(hasUnsignedThinking)) return body;
  return {
    ...body,
    messages: messages.map((message: unknown) => {
      if (!hasUnsignedThinking(message)) return message;
      const content = (message.content as unknown[]).filter((block) => !isUnsignedThinking(block));
      return { ...message, content };
    }),
  };
}

function hasUnsignedThinking(message: unknown): message is JsonObject {
  return isObject(message) && message.role === 'assistant' && Array.isArray(message.content) && message.content.some(isUnsignedThinking);
}

function isUnsignedThinking(block: unknown): boolean {
  return isObject(block) && block.type === 'thinking' && (typeof block.signature !== 'string' || block.signature === '');
}
