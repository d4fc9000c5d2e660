import { randomBytes } from 'node:crypto';
import type { AssistantPart } from '../../core/chat-request.js';
import type { NeutralResponse } from '../../core/chat-response.js';
import { GatewayError } from '../../core/gateway-error.js';
import { isObject, type JsonObject } from '../../core/json.js';
import { readUpstreamError } from './errors.js';
import { finishReasonFromOpenAi, finishReasonToOpenAi } from './finish-reason-map.js';
import { openAiReasoningText } from './reasoning-text.js';
import { newToolCallId } from './tool-call-id.js';
import { openAiUsageObject } from './usage-encode.js';
import { usageFromOpenAi } from './usage.js';

/**
 * A whole OpenAI-compatible answer in neutral form (the non-stream twin of OpenAiStreamDecoder,
 * with the same choices: choice 0 only, reasoning from `reasoning_content`, `reasoning` or
 * OpenRouter's `reasoning_details`, refusal text as text, missing tool ids filled, and a turn
 * with tool calls that says `stop` reported as tool-calls). An error object is an upstream
 * failure even in a 200.
 */
export function decodeOpenAiResponse(payload: unknown, route: string): NeutralResponse {
  const details = readUpstreamError(payload);
  if (details !== undefined) {
    throw new GatewayError('upstream_stream_error', `Upstream ${route} reported an error: ${details.message}`, {
      route,
      upstreamType: details.type,
      upstreamCode: details.code,
      param: details.param,
    });
  }
  const choices = isObject(payload) && Array.isArray(payload.choices) ? payload.choices : undefined;
  const choice: unknown = choices?.find((c: unknown) => isObject(c) && (c.index === 0 || c.index === undefined)) ?? choices?.[0];
  if (!isObject(payload) || !isObject(choice) || !isObject(choice.message)) {
    throw new GatewayError('upstream_protocol_error', `Upstream ${route} answered without a message.`, { route });
  }
  const message = choice.message;
  const content: AssistantPart[] = [];
  const reasoning = openAiReasoningText(message);
  if (reasoning !== '') content.push({ type: 'reasoning', text: reasoning });
  for (const text of contentTexts(message)) content.push({ type: 'text', text });
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      if (!isObject(call)) continue;
      const fn = isObject(call.function) ? call.function : {};
      const args = fn.arguments;
      content.push({
        type: 'tool-call',
        id: typeof call.id === 'string' && call.id !== '' ? call.id : newToolCallId(),
        name: typeof fn.name === 'string' ? fn.name : '',
        // A few servers return the arguments parsed; the neutral model keeps JSON text.
        arguments: typeof args === 'string' ? args : args === undefined || args === null ? '' : JSON.stringify(args),
      });
    }
  }
  const calledTools = content.some((p) => p.type === 'tool-call');
  const finish = typeof choice.finish_reason === 'string' ? choice.finish_reason : calledTools ? 'tool_calls' : 'stop';
  const response: NeutralResponse = { content, finishReason: finishReasonFromOpenAi(finish, calledTools) };
  if (typeof payload.id === 'string' && payload.id !== '') response.id = payload.id;
  if (typeof payload.model === 'string' && payload.model !== '') response.model = payload.model;
  const usage = usageFromOpenAi(payload.usage);
  if (usage !== undefined) response.usage = usage;
  return response;
}

/**
 * A neutral answer as an OpenAI `chat.completion`. Text parts are concatenated with nothing in
 * between, as a stream of the same answer would be; content is null only when the answer is
 * tool calls alone; usage is omitted when the upstream reported none (the field is optional).
 */
export function encodeOpenAiResponse(response: NeutralResponse, options: { model: string }): string {
  let text = '';
  let reasoning = '';
  const calls: JsonObject[] = [];
  for (const part of response.content) {
    if (part.type === 'text') text += part.text;
    else if (part.type === 'reasoning') reasoning += part.text;
    else if (part.type === 'tool-call') {
      calls.push({ id: part.id, type: 'function', function: { name: part.name, arguments: part.arguments } });
    }
  }
  const message: JsonObject = { role: 'assistant', content: text === '' && calls.length > 0 ? null : text };
  if (reasoning !== '') message.reasoning_content = reasoning;
  if (calls.length > 0) message.tool_calls = calls;
  message.refusal = null;
  const id = response.id === undefined || response.id === '' ? randomBytes(12).toString('hex') : response.id;
  const completion: JsonObject = {
    id: id.startsWith('chatcmpl-') ? id : `chatcmpl-${id}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: options.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReasonToOpenAi(response.finishReason, calls.length > 0) }],
  };
  if (response.usage !== undefined) completion.usage = openAiUsageObject(response.usage);
  return JSON.stringify(completion);
}


/** `content` as a string or (some servers) text parts, then any refusal text. */
function contentTexts(message: JsonObject): string[] {
  const texts: string[] = [];
  const content = message.content;
  if (typeof content === 'string') texts.push(content);
  else if (Array.isArray(content)) {
    for (const part of content) if (isObject(part) && part.type === 'text' && typeof part.text === 'string') texts.push(part.text);
  }
  if (typeof message.refusal === 'string') texts.push(message.refusal);
  return texts.filter((t) => t !== '');
}
