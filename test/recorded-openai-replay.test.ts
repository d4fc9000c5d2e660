/**
 * Replays real recorded provider streams (../shared/fixtures/recorded, never committed here)
 * through Sluice to the official OpenAI SDK and a raw wire check. Each recording must reach the
 * client intact: same text, reasoning, tool calls and finish reasons, and a stream that obeys the
 * client contract (role first, dense tool indexes, usage as asked, [DONE] last, errors in-stream).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startScriptedUpstream, sseHeaders } from './support/scripted-upstream.js';
import { startSluice, configFor, clientKey, eventually } from './support/sluice.js';
import { checkOpenAiStream } from './support/openai-wire-check.js';

const recorded = join(import.meta.dirname, '..', '..', 'shared', 'fixtures', 'recorded');
const available = existsSync(recorded);
const families = ['openai', 'deepseek', 'compat'];
const fixtures = available
  ? families.flatMap((dir) => readdirSync(join(recorded, dir)).filter((f) => f.endsWith('.sse')).map((f) => `${dir}/${f}`))
  : [];

interface Expected {
  text: Map<number, string>;
  reasoning: Map<number, string>;
  tools: Map<number, { name: string; arguments: string }[]>;
  finish: Map<number, string>;
  usage: Record<string, number> | undefined;
  error: boolean;
}

/** What the recording says, read independently of Sluice's code. */
function expectedFrom(raw: string): Expected {
  const out: Expected = { text: new Map(), reasoning: new Map(), tools: new Map(), finish: new Map(), usage: undefined, error: false };
  const toolSlots = new Map<number, Map<string, number>>();
  for (const block of raw.replace(/\r\n?/g, '\n').split('\n\n')) {
    const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
    if (data === '' || data === '[DONE]') continue;
    const chunk = JSON.parse(data) as Record<string, unknown>;
    if (chunk.error) {
      out.error = true;
      continue;
    }
    if (chunk.usage) out.usage = chunk.usage as Record<string, number>;
    for (const choice of (chunk.choices ?? []) as Record<string, unknown>[]) {
      const i = choice.index as number;
      const delta = (choice.delta ?? {}) as Record<string, unknown>;
      if (typeof delta.content === 'string') out.text.set(i, (out.text.get(i) ?? '') + delta.content);
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === 'string') out.reasoning.set(i, (out.reasoning.get(i) ?? '') + reasoning);
      for (const call of (delta.tool_calls ?? []) as Record<string, unknown>[]) {
        const calls = out.tools.get(i) ?? [];
        out.tools.set(i, calls);
        const slots = toolSlots.get(i) ?? new Map<string, number>();
        toolSlots.set(i, slots);
        const key = call.index !== undefined ? `i${String(call.index)}` : call.id ? `id${String(call.id)}` : `i${calls.length - 1}`;
        let slot = slots.get(key);
        if (slot === undefined) {
          slot = calls.length;
          slots.set(key, slot);
          calls.push({ name: '', arguments: '' });
        }
        const fn = (call.function ?? {}) as Record<string, unknown>;
        const target = calls[slot]!;
        if (typeof fn.name === 'string' && target.name === '') target.name = fn.name;
        if (typeof fn.arguments === 'string') target.arguments += fn.arguments;
      }
      if (typeof choice.finish_reason === 'string') out.finish.set(i, choice.finish_reason);
    }
  }
  return out;
}

test('recorded OpenAI-family streams reach the OpenAI client intact', { skip: available ? false : 'no ../shared/fixtures/recorded here' }, async (t) => {
  let current = '';
  const upstream = await startScriptedUpstream(async (_req, res) => {
    res.writeHead(200, sseHeaders);
    // Odd-sized pieces, a tick apart: the decoder must not care where reads split.
    const bytes = Buffer.from(current);
    for (let i = 0; i < bytes.length; i += 37) {
      res.write(bytes.subarray(i, i + 37));
      await new Promise((r) => setImmediate(r));
    }
    res.end();
  });
  const sluice = await startSluice(configFor([upstream.baseUrl]));
  t.after(async () => {
    await sluice.close(100);
    await upstream.close();
  });
  const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: clientKey, maxRetries: 0, timeout: 10_000 });
  assert.ok(fixtures.length >= 10, `expected the recorded fixtures, found ${fixtures.length}`);

  for (const name of fixtures) {
    await t.test(name, async () => {
      current = readFileSync(join(recorded, name), 'utf8');
      const expected = expectedFrom(current);
      const recordsBefore = sluice.records.length;
      for (const includeUsage of [true, false]) {
        const response = await fetch(`${sluice.baseURL}/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'test-model', messages: [{ role: 'user', content: 'hi' }], stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) }),
        });
        assert.equal(response.status, 200);
        const report = checkOpenAiStream(await response.text(), { includeUsage, requireUsageChunk: includeUsage && expected.usage !== undefined, expectError: expected.error });
        assert.deepEqual(report.violations, [], `wire violations (include_usage=${includeUsage})`);
        assert.deepEqual(report.text, expected.text, 'text per choice');
        assert.deepEqual(report.reasoning, expected.reasoning, 'reasoning per choice');
        assert.deepEqual(
          new Map([...report.toolCalls].map(([i, calls]) => [i, calls.map(({ name, arguments: args }) => ({ name, arguments: args }))])),
          expected.tools,
          'tool calls per choice',
        );
        if (!expected.error) assert.deepEqual(report.finishReasons, expected.finish, 'finish reasons');
        if (includeUsage && expected.usage) assert.equal(report.usage?.completion_tokens, expected.usage.completion_tokens);
      }
      // Records are written once the request is settled, which can be just after the client has its answer.
      await eventually(() => sluice.records.length >= recordsBefore + 2, 5000, 'both requests recorded');
      const record = sluice.records.at(-1)!;
      if (expected.usage) {
        // Whatever a vendor's counters include, input + output must add up to its total.
        assert.equal((record.usage?.input ?? 0) + (record.usage?.output ?? 0), expected.usage.total_tokens, 'usage is accounted');
        assert.equal(record.usage?.input, expected.usage.prompt_tokens);
      }
      assert.equal(record.outcome, expected.error ? 'upstream_error' : 'ok');

      // The SDK's own assembly agrees (and throws on the in-stream error).
      const run = client.chat.completions.stream({ model: 'test-model', messages: [{ role: 'user', content: 'hi' }] });
      if (expected.error) {
        await assert.rejects(run.finalChatCompletion(), (e: unknown) => e instanceof OpenAI.APIError);
        return;
      }
      const final = await run.finalChatCompletion();
      for (const choice of final.choices) {
        assert.equal(choice.message.content ?? '', expected.text.get(choice.index) ?? '');
        assert.equal(choice.finish_reason, expected.finish.get(choice.index));
        const calls = (choice.message.tool_calls ?? []).map((c) => (c.type === 'function' ? { name: c.function.name, arguments: c.function.arguments } : { name: '', arguments: '' }));
        assert.deepEqual(calls, expected.tools.get(choice.index) ?? []);
      }
    });
  }
});
