import type { ChatEvent } from '../../core/chat-event.js';
import type { AssistantPart, ReasoningPart, ToolCallPart } from '../../core/chat-request.js';
import type { NeutralResponse } from '../../core/chat-response.js';
import { newToolCallId } from '../openai-chat/tool-call-id.js';
import { GeminiStreamDecoder } from './stream-decoder.js';

/**
 * A whole `:generateContent` answer (https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse)
 * in neutral form. It is the same GenerateContentResponse a stream sends in pieces, so it is read
 * by the stream decoder and its events are folded into parts: one mapping for both paths. An
 * error body throws upstream_stream_error. No finishReason at all (which Gemini does not do for a
 * served answer) reads as 'other'.
 */
export function decodeGeminiResponse(payload: unknown, route: string): NeutralResponse {
  const response: NeutralResponse = { content: [], finishReason: 'other' };
  const calls = new Map<number, ToolCallPart>();
  for (const event of new GeminiStreamDecoder(route).pushChunk(payload)) fold(response, calls, event);
  return response;
}

function fold(response: NeutralResponse, calls: Map<number, ToolCallPart>, event: ChatEvent): void {
  const content = response.content;
  const last = content[content.length - 1];
  switch (event.type) {
    case 'start':
      if (event.id !== undefined) response.id = event.id;
      if (event.model !== undefined) response.model = event.model;
      if (event.usage !== undefined) response.usage = event.usage;
      return;
    case 'text':
      if (last?.type === 'text') last.text += event.text;
      else content.push({ type: 'text', text: event.text });
      return;
    case 'reasoning':
      if (isOpenReasoning(last)) last.text += event.text;
      else content.push({ type: 'reasoning', text: event.text });
      return;
    case 'reasoning-signature': {
      const signature = { family: event.family, value: event.signature };
      // The signature closes the thought it followed; after a text part it stands alone, which is
      // where the request encoder looks for it to put it back on that text part.
      if (isOpenReasoning(last)) last.signature = signature;
      else content.push({ type: 'reasoning', text: '', signature });
      return;
    }
    case 'redacted-reasoning':
      content.push({ type: 'redacted-reasoning', data: event.data, family: event.family });
      return;
    case 'tool-call': {
      const known = calls.get(event.index);
      if (known !== undefined) {
        known.arguments += event.argumentsDelta;
        if (event.signature !== undefined) known.signature ??= event.signature;
        return;
      }
      const call: ToolCallPart = { type: 'tool-call', id: event.id ?? newToolCallId(), name: event.name ?? '', arguments: event.argumentsDelta };
      if (event.signature !== undefined) call.signature = event.signature;
      calls.set(event.index, call);
      content.push(call);
      return;
    }
    case 'usage':
      response.usage = event.usage;
      return;
    case 'finish':
      response.finishReason = event.reason;
      if (event.stopSequence !== undefined) response.stopSequence = event.stopSequence;
      return;
  }
}

function isOpenReasoning(part: AssistantPart | undefined): part is ReasoningPart {
  return part?.type === 'reasoning' && part.signature === undefined;
}
