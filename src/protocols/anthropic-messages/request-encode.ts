import { effortBudgets, type NeutralRequest, type ReasoningRequest, type ToolChoice } from '../../core/chat-request.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { JsonObject } from '../../core/json.js';
import type { UpstreamTarget } from '../codec.js';
import { encodeAnthropicMessages, toolLoopLacksThinking } from './messages-encode.js';

const defaultMaxTokens = 4096;
/** Anthropic's floor for `thinking.budget_tokens`. */
const minThinkingBudget = 1024;
/** With thinking on, Anthropic accepts top_p only in [0.95, 1]. */
const minThinkingTopP = 0.95;

/**
 * The JSON body of POST /v1/messages for a translated request. Where Anthropic's rules clash with
 * what the client asked, the answer the client wanted wins over reasoning, which is best-effort
 * across providers anyway (see encodeThinking).
 */
export function encodeAnthropicRequest(request: NeutralRequest, target: UpstreamTarget): string {
  const messages = encodeAnthropicMessages(request.messages);
  const body: JsonObject = { model: target.model, max_tokens: request.maxTokens ?? target.defaultMaxTokens ?? defaultMaxTokens };
  if (request.system.length > 0) body.system = request.system.map((part) => ({ type: 'text', text: part.text }));
  body.messages = messages;
  if (request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      // Anthropic insists on an object schema; OpenAI accepts `{}` for "no parameters".
      input_schema: { type: 'object', ...tool.parameters },
    }));
    const choice = toolChoice(request.toolChoice, request.parallelToolCalls);
    if (choice !== undefined) body.tool_choice = choice;
  }
  const forcedTool = request.tools.length > 0 && (request.toolChoice?.type === 'required' || request.toolChoice?.type === 'tool');
  const thinking = forcedTool || toolLoopLacksThinking(messages) ? false : encodeThinking(request.reasoning, body);
  encodeSampling(request, thinking, body);
  if (request.stopSequences.length > 0) body.stop_sequences = request.stopSequences;
  const format = request.responseFormat;
  if (format?.type === 'json_schema') body.output_config = { format: { type: 'json_schema', schema: format.schema } };
  if (format?.type === 'json_object') {
    // Anthropic's structured outputs need a schema with declared properties ("any JSON object"
    // is refused), and it has no plain JSON mode: nothing expresses json_object faithfully.
    throw new GatewayError('invalid_request', "response_format 'json_object' cannot be translated for Anthropic models: use 'json_schema' with a schema.", { param: 'response_format' });
  }
  if (request.user !== undefined) body.metadata = { user_id: request.user };
  if (request.stream) body.stream = true;
  try {
    return JSON.stringify(body);
  } catch (error) {
    // JSON.parse accepts any nesting depth; JSON.stringify recurses and overflows the stack.
    if (error instanceof RangeError) throw new GatewayError('invalid_request', 'The request body is nested too deeply to forward.');
    throw error;
  }
}

function toolChoice(choice: ToolChoice | undefined, parallelToolCalls: boolean | undefined): JsonObject | undefined {
  const noParallel = parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
  switch (choice?.type) {
    case undefined:
      return parallelToolCalls === false ? { type: 'auto', ...noParallel } : undefined;
    case 'auto':
      return { type: 'auto', ...noParallel };
    case 'required':
      return { type: 'any', ...noParallel };
    case 'tool':
      return { type: 'tool', name: choice.name, ...noParallel };
    case 'none':
      return { type: 'none' }; // parallelism is moot when no tool may be called
  }
}

/**
 * Reasoning -> `thinking`. An effort becomes the budget of the shared effortBudgets table.
 * Anthropic wants 1024 <= budget_tokens < max_tokens: a smaller budget is raised to 1024, and
 * when the budget does not fit under max_tokens, max_tokens is raised to budget + max_tokens, so
 * the client's limit still bounds the visible answer and thinking gets its budget on top.
 * `disabled` omits `thinking`: every model accepts its absence, while some refuse an explicit
 * `{"type":"disabled"}` (a model that thinks by default then thinks).
 * Not called, and thinking stays off, when tool use is forced (Anthropic refuses thinking with
 * tool_choice any/tool) or when the tool loop being continued has no Anthropic thinking to replay.
 */
function encodeThinking(reasoning: ReasoningRequest | undefined, body: JsonObject): boolean {
  if (reasoning === undefined || reasoning.type === 'disabled') return false;
  const requested = reasoning.type === 'budget' ? reasoning.budgetTokens : effortBudgets[reasoning.effort];
  const budget = Math.max(minThinkingBudget, Math.floor(requested));
  const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : defaultMaxTokens;
  if (budget >= maxTokens) body.max_tokens = budget + maxTokens;
  body.thinking = { type: 'enabled', budget_tokens: budget };
  return true;
}

/**
 * Sampling parameters. Anthropic's temperature tops out at 1 (OpenAI's at 2): higher values are
 * sent as 1, the nearest Anthropic accepts. With thinking on, Anthropic refuses temperature
 * other than 1 and any top_k, and top_p below 0.95: those are left out or raised, as reasoning
 * models elsewhere ignore sampling parameters too.
 */
function encodeSampling(request: NeutralRequest, thinking: boolean, body: JsonObject): void {
  if (request.temperature !== undefined) {
    const temperature = Math.min(1, Math.max(0, request.temperature));
    if (!thinking || temperature === 1) body.temperature = temperature;
  }
  if (request.topP !== undefined) body.top_p = thinking ? Math.max(minThinkingTopP, request.topP) : request.topP;
  if (request.topK !== undefined && !thinking) body.top_k = request.topK;
}
