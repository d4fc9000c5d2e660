import { z } from 'zod';
import type { NeutralRequest, ReasoningEffort, ReasoningRequest, ResponseFormat, ToolChoice, ToolDefinition } from '../../core/chat-request.js';
import { GatewayError } from '../../core/gateway-error.js';
import { isObject, type JsonObject } from '../../core/json.js';
import { decodeMessages, decodeSystem } from './message-decode.js';
import { fieldPath, invalidField, parseField, untranslatable } from './request-field.js';

/**
 * An Anthropic Messages request that will be translated for another protocol, validated the way
 * Anthropic validates it (400 naming the field). Anthropic itself refuses unknown top-level fields
 * ("Extra inputs are not permitted"), and a field Sluice does not know may change the answer, so
 * every top-level field is either translated, deliberately ignored, or refused.
 */

const translated = new Set([
  'model', 'max_tokens', 'messages', 'system', 'tools', 'tool_choice', 'stop_sequences', 'temperature', 'top_p', 'top_k',
  'thinking', 'metadata', 'stream', 'output_config',
  'output_format', // the structured-outputs beta's spelling of output_config.format
]);
/** They tune caching, latency, billing or data residency, never what the model says. */
const ignored = new Set(['cache_control', 'service_tier', 'speed', 'inference_geo', 'diagnostics', 'user_profile_id', 'workspace_id']);

const jsonSchemaFormat = z.looseObject({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()) });

const requestSchema = z.looseObject({
  model: z.string().min(1, 'must be a non-empty string'),
  max_tokens: z.number().int().min(1, 'must be a positive integer'),
  messages: z.array(z.unknown()).min(1, 'must contain at least one message'),
  stream: z.boolean().nullish(),
  temperature: z.number().min(0).max(1).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  top_k: z.number().int().min(0).nullish(),
  stop_sequences: z.array(z.string()).nullish(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).nullish(),
  tools: z.array(z.unknown()).nullish(),
  tool_choice: z
    .discriminatedUnion('type', [
      z.looseObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().nullish() }),
      z.looseObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().nullish() }),
      z.looseObject({ type: z.literal('tool'), name: z.string().min(1), disable_parallel_tool_use: z.boolean().nullish() }),
      z.looseObject({ type: z.literal('none') }),
    ])
    .nullish(),
  output_format: jsonSchemaFormat.nullish(),
});

const thinkingSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('enabled'), budget_tokens: z.number().int().min(1024, 'must be at least 1024') }),
  z.looseObject({ type: z.literal('disabled') }),
  z.looseObject({ type: z.literal('adaptive') }),
]);

const outputConfigSchema = z.strictObject({
  effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullish(),
  format: jsonSchemaFormat.nullish(),
});

const customToolSchema = z.looseObject({
  name: z.string().min(1),
  description: z.string().nullish(),
  input_schema: z.looseObject({ type: z.literal('object') }),
  input_examples: z.array(z.unknown()).nullish(),
});

export function decodeAnthropicRequest(payload: unknown): NeutralRequest {
  if (!isObject(payload)) throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
  for (const key of Object.keys(payload)) {
    if (translated.has(key) || ignored.has(key)) continue;
    if (key === 'container' || key === 'mcp_servers' || key === 'context_management') throw untranslatable(key, `'${key}'`);
    throw invalidField(key, 'unknown field (Extra inputs are not permitted)');
  }
  const body = parseField(requestSchema, payload, '');
  const system = decodeSystem(payload.system, 'system');
  const messages = decodeMessages(body.messages, system);
  const outputConfig = payload.output_config === undefined || payload.output_config === null ? undefined : decodeOutputConfig(payload.output_config);
  const reasoning = decodeReasoning(payload.thinking, outputConfig?.effort ?? undefined, body.max_tokens);
  const format = outputConfig?.format ?? body.output_format;
  const choice = body.tool_choice ?? undefined;
  const request: NeutralRequest = {
    model: body.model,
    system,
    messages,
    tools: (body.tools ?? []).map((tool, i) => decodeTool(tool, fieldPath('tools', i))),
    maxTokens: body.max_tokens,
    stopSequences: body.stop_sequences ?? [],
    stream: body.stream === true,
    includeUsage: false, // an OpenAI notion: Anthropic streams always carry usage
  };
  if (choice) request.toolChoice = toolChoiceFromAnthropic(choice);
  if (choice && 'disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use === true) request.parallelToolCalls = false;
  if (body.temperature !== undefined && body.temperature !== null) request.temperature = body.temperature;
  if (body.top_p !== undefined && body.top_p !== null) request.topP = body.top_p;
  if (body.top_k !== undefined && body.top_k !== null) request.topK = body.top_k;
  if (reasoning) request.reasoning = reasoning;
  if (format) request.responseFormat = responseFormatFromAnthropic(format.schema);
  const user = body.metadata?.user_id;
  if (user) request.user = user;
  return request;
}

function decodeOutputConfig(value: unknown): z.output<typeof outputConfigSchema> {
  if (isObject(value)) {
    // task_budget and whatever Anthropic adds next steer the model in ways no other API can.
    const extra = Object.keys(value).find((key) => key !== 'effort' && key !== 'format');
    if (extra !== undefined) throw untranslatable(fieldPath('output_config', extra), `'output_config.${extra}'`);
  }
  return parseField(outputConfigSchema, value, 'output_config');
}

/**
 * `thinking` (and `output_config.effort`) -> the neutral reasoning request. A budget stays a
 * budget; `adaptive` means "the model decides", which is what another provider does when told
 * nothing, so it becomes the effort when one was given and no reasoning instruction otherwise.
 * Effort without thinking is read the same way. `display` only changes what is shown and is
 * ignored. `between_tools` has no counterpart anywhere else and is refused.
 */
function decodeReasoning(value: unknown, effort: string | undefined, maxTokens: number): ReasoningRequest | undefined {
  const fromEffort = effort === undefined ? undefined : ({ type: 'effort', effort: reasoningEffort(effort) } as const);
  if (value === undefined || value === null) return fromEffort;
  if (isObject(value) && value.type === 'between_tools') throw untranslatable('thinking.type', "thinking 'between_tools'");
  const thinking = parseField(thinkingSchema, value, 'thinking');
  switch (thinking.type) {
    case 'enabled':
      if (thinking.budget_tokens >= maxTokens) throw invalidField('thinking.budget_tokens', '`max_tokens` must be greater than `thinking.budget_tokens`');
      return { type: 'budget', budgetTokens: thinking.budget_tokens };
    case 'disabled':
      return { type: 'disabled' };
    case 'adaptive':
      return fromEffort;
  }
}

/** Anthropic's five effort levels onto the neutral four: above `high` there is nothing higher. */
function reasoningEffort(effort: string): ReasoningEffort {
  if (effort === 'low' || effort === 'medium') return effort;
  return 'high';
}

function toolChoiceFromAnthropic(choice: { type: 'auto' | 'any' | 'none' } | { type: 'tool'; name: string }): ToolChoice {
  switch (choice.type) {
    case 'auto':
      return { type: 'auto' };
    case 'any':
      return { type: 'required' };
    case 'none':
      return { type: 'none' };
    case 'tool':
      return { type: 'tool', name: choice.name };
  }
}

/** Anthropic's structured output is always enforced (constrained decoding): strict. */
function responseFormatFromAnthropic(schema: Record<string, unknown>): ResponseFormat {
  return { type: 'json_schema', name: 'response', schema, strict: true };
}

function decodeTool(value: unknown, path: string): ToolDefinition {
  if (!isObject(value)) throw invalidField(path, 'expected a tool object');
  // Server tools (web search, code execution...) and Anthropic-schema tools (bash, text editor,
  // computer) run inside Anthropic or need its built-in schemas: nothing else can run them.
  if (value.type !== undefined && value.type !== null && value.type !== 'custom') {
    throw untranslatable(fieldPath(path, 'type'), `the Anthropic tool '${String(value.type)}'`);
  }
  const tool = parseField(customToolSchema, value, path);
  if (tool.input_examples && tool.input_examples.length > 0) throw untranslatable(fieldPath(path, 'input_examples'), 'tool input examples');
  return { name: tool.name, ...(tool.description ? { description: tool.description } : {}), parameters: tool.input_schema };
}

/** Only what the passthrough path relies on: the body is forwarded to Anthropic untouched. */
const passthroughSchema = z.looseObject({
  model: z.string().min(1, 'must be a non-empty string'),
  max_tokens: z.number().int().min(1, 'must be a positive integer'),
  messages: z
    .array(z.looseObject({ role: z.string().min(1), content: z.union([z.string(), z.array(z.unknown())]) }))
    .min(1, 'must contain at least one message'),
  stream: z.boolean().nullish(),
});

/** The light check of the same-protocol path: unknown fields are Anthropic's business. */
export function checkAnthropicRequest(payload: unknown): { model: string; stream: boolean; body: JsonObject } {
  if (!isObject(payload)) throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
  const parsed = parseField(passthroughSchema, payload, '');
  return { model: parsed.model, stream: parsed.stream === true, body: payload };
}
