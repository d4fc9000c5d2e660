/**
 * What each client must see for a scenario, derived from the scenario data alone (never from
 * Sluice's code): finish/stop reasons mapped, tool calls kept apart with their ids, usage
 * normalised to the client's convention.
 */
import assert from 'node:assert/strict';
import { expressibleUsage, join, type ContentScenario, type NeutralFinish, type UpstreamKind } from './scenarios.js';
import type { Json, Outcome } from './clients.js';

export const openAiFinish: Record<NeutralFinish, string> = { stop: 'stop', length: 'length', tool_calls: 'tool_calls' };
export const anthropicStop: Record<NeutralFinish, string> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use' };
export const aiSdkFinish: Record<NeutralFinish, string> = { stop: 'stop', length: 'length', tool_calls: 'tool-calls' };

/** The id the upstream gave each call (Gemini gives none: Sluice must make them up). */
export function upstreamToolId(kind: UpstreamKind, tool: { anthropicId: string; openaiId: string }): string | undefined {
  return kind === 'anthropic' ? tool.anthropicId : kind === 'openai' ? tool.openaiId : undefined;
}

/** Tool calls: the same count (two parallel calls never merged), names, arguments JSON, ids present, distinct, and kept when the upstream had them. */
export function assertToolCalls(outcome: Outcome, scenario: ContentScenario, kind: UpstreamKind, options: { idPattern?: RegExp; keepIds?: boolean } = {}): void {
  const tools = scenario.tools ?? [];
  assert.deepEqual(
    outcome.toolCalls.map((c) => c.name),
    tools.map((t) => t.name),
    `tool call names (got ${JSON.stringify(outcome.toolCalls)})`,
  );
  outcome.toolCalls.forEach((call, i) => {
    let parsed: unknown;
    assert.doesNotThrow(() => (parsed = JSON.parse(call.arguments)), `tool call ${i} arguments must be JSON: ${call.arguments}`);
    assert.deepEqual(parsed, tools[i]?.args, `tool call ${i} arguments`);
    assert.ok(typeof call.id === 'string' && call.id !== '', `tool call ${i} has an id`);
    if (options.idPattern) assert.match(call.id, options.idPattern, `tool call ${i} id format`);
    const original = upstreamToolId(kind, tools[i]!);
    if (original !== undefined && options.keepIds !== false) assert.equal(call.id, original, `tool call ${i} keeps the upstream's id`);
  });
  assert.equal(new Set(outcome.toolCalls.map((c) => c.id)).size, outcome.toolCalls.length, 'tool call ids are distinct');
}

/** OpenAI usage: prompt_tokens include cached tokens (and cache writes); cached_tokens = cache reads. */
export function assertOpenAiUsage(usage: Json | undefined, scenario: ContentScenario, kind: UpstreamKind): void {
  const u = expressibleUsage(scenario.usage, kind);
  assert.ok(usage, 'usage is present');
  assert.deepEqual(
    { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, total_tokens: usage.total_tokens, cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0 },
    { prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output, cached_tokens: u.cacheRead },
    `OpenAI usage (got ${JSON.stringify(usage)})`,
  );
  // Anthropic does not report reasoning tokens apart; the others do.
  if (u.reasoning > 0 && kind !== 'anthropic') {
    assert.equal(usage.completion_tokens_details?.reasoning_tokens, u.reasoning, `completion_tokens_details.reasoning_tokens (got ${JSON.stringify(usage)})`);
  }
}

/** Anthropic usage: input_tokens exclude cache reads and writes. */
export function assertAnthropicUsage(usage: Json | undefined, scenario: ContentScenario, kind: UpstreamKind): void {
  const u = expressibleUsage(scenario.usage, kind);
  assert.ok(usage, 'usage is present');
  assert.deepEqual(
    {
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
      cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
    },
    { input_tokens: u.input - u.cacheRead - u.cacheWrite, output_tokens: u.output, cache_read_input_tokens: u.cacheRead, cache_creation_input_tokens: u.cacheWrite },
    `Anthropic usage (got ${JSON.stringify(usage)})`,
  );
}

/** The AI SDK normalises both protocols to totals: inputTokens include cached ones. */
export function assertAiSdkUsage(usage: Json | undefined, scenario: ContentScenario, kind: UpstreamKind): void {
  const u = expressibleUsage(scenario.usage, kind);
  assert.ok(usage, 'the AI SDK reports usage');
  assert.deepEqual(
    { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, cacheReadTokens: usage.inputTokenDetails?.cacheReadTokens ?? 0 },
    { inputTokens: u.input, outputTokens: u.output, cacheReadTokens: u.cacheRead },
    `AI SDK usage (got ${JSON.stringify(usage)})`,
  );
}

export function assertText(outcome: Outcome, scenario: ContentScenario): void {
  assert.equal(outcome.text, join(scenario.text), 'text');
}

export function assertReasoning(outcome: Outcome, scenario: ContentScenario): void {
  assert.equal(outcome.reasoning, join(scenario.reasoning), 'reasoning text');
}
