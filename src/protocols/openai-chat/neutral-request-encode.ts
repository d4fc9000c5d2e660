import {
  effortForBudget,
  type AssistantPart,
  type ImagePart,
  type NeutralRequest,
  type ReasoningRequest,
  type TextPart,
  type ToolChoice,
  type UserPart,
} from '../../core/chat-request.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { JsonObject } from '../../core/json.js';
import type { UpstreamTarget } from '../codec.js';

/**
 * The Chat Completions body for an OpenAI-compatible upstream when the client spoke another
 * protocol (Anthropic). Decisions:
 * - text blocks of one message are joined with a blank line into one string: every
 *   OpenAI-compatible server accepts string content, not all accept arrays; arrays are used only
 *   when a message holds images.
 * - tool results become `tool` messages, in order, before the rest of that user turn. OpenAI tool
 *   messages hold text only, so images returned by a tool follow in the user message after them.
 *   OpenAI has no error flag for a tool result; the result's text is all the model sees.
 * - reasoning is replayed only when the upstream names a field for it (target.reasoningField),
 *   as plain text; signatures and redacted reasoning belong to their own family and are dropped.
 * - tools, tool_choice and parallel_tool_calls are sent only with a non-empty tool list (OpenAI
 *   rejects the last two without tools).
 * - top_k is sent as is: a vendor extension most servers accept; OpenAI answers its own 400.
 */
export function encodeOpenAiRequest(request: NeutralRequest, target: UpstreamTarget): string {
  const body: JsonObject = { model: target.model, messages: encodeMessages(request, target) };
  if (request.tools.length > 0) {
    body.tools = request.tools.map((tool) => {
      const fn: JsonObject = { name: tool.name };
      if (tool.description !== undefined) fn.description = tool.description;
      fn.parameters = tool.parameters;
      return { type: 'function', function: fn };
    });
    if (request.toolChoice !== undefined) body.tool_choice = toolChoice(request.toolChoice);
    if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  }
  if (request.maxTokens !== undefined) body[target.maxTokensField ?? 'max_tokens'] = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.topK !== undefined) body.top_k = request.topK;
  if (request.stopSequences.length > 0) body.stop = request.stopSequences;
  const format = request.responseFormat;
  if (format !== undefined) {
    if (format.type !== 'json_schema') body.response_format = { type: format.type };
    else {
      const spec: JsonObject = { name: format.name, schema: format.schema };
      if (format.strict !== undefined) spec.strict = format.strict;
      if (format.description !== undefined) spec.description = format.description;
      body.response_format = { type: 'json_schema', json_schema: spec };
    }
  }
  const effort = reasoningEffort(request.reasoning);
  if (effort !== undefined) body.reasoning_effort = effort;
  body.stream = request.stream;
  // Always asked for, whatever the client said: every request is accounted.
  if (request.stream && target.sendStreamOptions !== false) body.stream_options = { include_usage: true };
  if (request.user !== undefined) body.user = request.user;
  try {
    return JSON.stringify(body);
  } catch (error) {
    // JSON.parse accepts any nesting depth; JSON.stringify recurses and can overflow the stack.
    if (error instanceof RangeError) throw new GatewayError('invalid_request', 'The request body is nested too deeply to forward.');
    throw error;
  }
}

function encodeMessages(request: NeutralRequest, target: UpstreamTarget): JsonObject[] {
  const out: JsonObject[] = [];
  if (request.system.length > 0) out.push({ role: 'system', content: joinText(request.system) });
  for (const message of request.messages) {
    if (message.role === 'user') out.push(...userMessages(message.content));
    else out.push(assistantMessage(message.content, target.reasoningField));
  }
  return out;
}

function userMessages(parts: UserPart[]): JsonObject[] {
  const out: JsonObject[] = [];
  const toolImages: ImagePart[] = [];
  const rest: Array<TextPart | ImagePart> = [];
  for (const part of parts) {
    if (part.type !== 'tool-result') {
      rest.push(part);
      continue;
    }
    const text: TextPart[] = [];
    for (const item of part.content) {
      if (item.type === 'text') text.push(item);
      else toolImages.push(item);
    }
    out.push({ role: 'tool', tool_call_id: part.toolCallId, content: joinText(text) });
  }
  const content = [...toolImages, ...rest];
  // A turn of only tool results needs no user message; an empty turn is kept as one.
  if (content.length > 0 || out.length === 0) out.push({ role: 'user', content: userContent(content) });
  return out;
}

function userContent(parts: Array<TextPart | ImagePart>): string | JsonObject[] {
  if (parts.every((p): p is TextPart => p.type === 'text')) return joinText(parts);
  return parts.map((part) => {
    if (part.type === 'text') return { type: 'text', text: part.text };
    const source = part.source;
    const url = source.kind === 'url' ? source.url : `data:${source.mediaType};base64,${source.data}`;
    return { type: 'image_url', image_url: { url } };
  });
}

function assistantMessage(parts: AssistantPart[], reasoningField: UpstreamTarget['reasoningField']): JsonObject {
  const text: TextPart[] = [];
  let reasoning = '';
  const calls: JsonObject[] = [];
  for (const part of parts) {
    if (part.type === 'text') text.push(part);
    else if (part.type === 'reasoning') reasoning += part.text;
    else if (part.type === 'tool-call') {
      // Servers that parse arguments for their chat template (vLLM, llama.cpp) fail on ''.
      const args = part.arguments === '' ? '{}' : part.arguments;
      calls.push({ id: part.id, type: 'function', function: { name: part.name, arguments: args } });
    }
  }
  const content = joinText(text);
  const message: JsonObject = { role: 'assistant', content: content === '' && calls.length > 0 ? null : content };
  if (reasoningField !== undefined && reasoning !== '') message[reasoningField] = reasoning;
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

function toolChoice(choice: ToolChoice): unknown {
  return choice.type === 'tool' ? { type: 'function', function: { name: choice.name } } : choice.type;
}

function reasoningEffort(reasoning: ReasoningRequest | undefined): string | undefined {
  if (reasoning === undefined || reasoning.type === 'disabled') return undefined;
  return reasoning.type === 'effort' ? reasoning.effort : effortForBudget(reasoning.budgetTokens);
}

function joinText(parts: TextPart[]): string {
  return parts.map((p) => p.text).join('\n\n');
}
