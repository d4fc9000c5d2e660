import { z } from 'zod';
import { GatewayError } from '../../core/gateway-error.js';
import { isObject, type JsonObject } from '../../core/json.js';
import type { UpstreamTarget } from '../codec.js';

/**
 * What Sluice checks of a Chat Completions request. Loose objects: vendor fields Sluice does not
 * know pass through to the upstream untouched. Only what Sluice itself relies on, or what every
 * upstream would reject anyway, is checked here, so the client hears about it in one place.
 */
const messageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()]).optional(),
  tool_calls: z.array(z.looseObject({})).optional(),
});

const optionalInt = (min: number, max: number) => z.number().int().min(min).max(max).nullish();

const chatRequestSchema = z.looseObject({
  model: z.string().min(1, 'must be a non-empty string'),
  messages: z.array(messageSchema).min(1, 'must contain at least one message'),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  n: optionalInt(1, 128),
  max_tokens: optionalInt(1, Number.MAX_SAFE_INTEGER),
  max_completion_tokens: optionalInt(1, Number.MAX_SAFE_INTEGER),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  tools: z.array(z.looseObject({ type: z.string() })).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(16), z.null()]).optional(),
});

export interface ChatRequest {
  /** The client's body as parsed, vendor fields included. Never mutated. */
  body: JsonObject;
  model: string;
  stream: boolean;
  /** The client asked for the final usage chunk (`stream_options.include_usage`). */
  includeUsage: boolean;
}

/** Validates a parsed JSON body; throws a 400 naming the first offending field. */
export function decodeChatRequest(payload: unknown): ChatRequest {
  const parsed = chatRequestSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue === undefined ? undefined : formatPath(issue.path);
    const detail = issue === undefined ? 'invalid request' : describeIssue(issue);
    const message = param ? `Invalid value for '${param}': ${detail}` : `Invalid request body: ${detail}`;
    throw new GatewayError('invalid_request', message, param ? { param } : {});
  }
  const body = parsed.data as JsonObject;
  const stream = parsed.data.stream === true;
  return { body, model: parsed.data.model, stream, includeUsage: stream && parsed.data.stream_options?.include_usage === true };
}

/**
 * The body sent to an OpenAI-compatible upstream: the client's body with the upstream's model
 * name, and, for streams, `include_usage` forced on so every request can be accounted even when
 * the client did not ask for usage (the usage chunk is then removed on the way back).
 */
export function encodeUpstreamChatBody(request: ChatRequest, target: UpstreamTarget): string {
  const body: JsonObject = { ...request.body, model: target.model };
  const sendStreamOptions = target.sendStreamOptions !== false;
  if (request.stream && sendStreamOptions) {
    const clientOptions = request.body.stream_options;
    body.stream_options = { ...(typeof clientOptions === 'object' && clientOptions !== null ? clientOptions : {}), include_usage: true };
  } else if (!sendStreamOptions) {
    delete body.stream_options;
  }
  if (target.reasoningField !== undefined) body.messages = renameReasoning(body.messages, target.reasoningField);
  try {
    return JSON.stringify(body);
  } catch (error) {
    // JSON.parse accepts any nesting depth; JSON.stringify recurses and overflows the stack.
    if (error instanceof RangeError) throw new GatewayError('invalid_request', 'The request body is nested too deeply to forward.');
    throw error;
  }
}

/**
 * Reasoning replayed in assistant history under the name the upstream expects (DeepSeek wants
 * `reasoning_content`, vLLM now `reasoning`). Messages are copied, never changed in place.
 */
function renameReasoning(messages: unknown, field: 'reasoning_content' | 'reasoning'): unknown {
  const other = field === 'reasoning' ? 'reasoning_content' : 'reasoning';
  const needsRename = (m: unknown): m is JsonObject => isObject(m) && m.role === 'assistant' && other in m;
  if (!Array.isArray(messages) || !messages.some(needsRename)) return messages;
  return messages.map((m: unknown) => {
    if (!needsRename(m)) return m;
    const { [other]: value, ...rest } = m;
    return { ...rest, [field]: rest[field] ?? value };
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'this field is required';
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return issue.message;
}
