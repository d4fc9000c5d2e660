/**
 * `kind: local` end to end: the official OpenAI and Anthropic SDKs -> Sluice -> node-llama-cpp
 * running tiny GGUF models generated at test time (test/support/gguf): a scripted model with a
 * known answer, a random one, one that calls a tool.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { tinyModel } from './support/gguf/tiny-model.js';
import { clientKey, eventually, startSluice, type TestSluice } from './support/sluice.js';

const script = ['Hello', ' from', ' the', ' tiny', ' local', ' model!'];
const answer = script.join('');
const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

let dir: string;
let sluice: TestSluice;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-local-'));
  writeFileSync(join(dir, 'script.gguf'), tinyModel({ mode: 'script', chunks: script }));
  writeFileSync(join(dir, 'random.gguf'), tinyModel({ mode: 'random', seed: 7 }));
  writeFileSync(join(dir, 'broken.gguf'), 'GGUF but not really');
  writeFileSync(join(dir, 'tool.gguf'), tinyModel({ mode: 'script', chunks: ['||call: ', 'get_weather', '(', '{"city": "Paris"}', ')'] }));
  sluice = await startSluice(`host: 127.0.0.1
port: 0
providers:
  local:
    kind: local
    models_dir: ${dir}
    threads: 1
    context_size: 2048
    sequences: 2
    queue: 2
    gpu: false
models:
  tiny: { routes: [local/script.gguf] }
  noise: { routes: [local/random.gguf] }
  weather: { routes: [local/tool.gguf] }
  missing: { routes: [local/nope.gguf] }
  broken: { routes: [local/broken.gguf] }
retries: { max_attempts: 1 }
health: { failure_threshold: 0 }
keys:
  - name: test
    key: ${clientKey}
`);
  openai = new OpenAI({ baseURL: sluice.baseURL, apiKey: clientKey, maxRetries: 0, timeout: 20_000 });
  anthropic = new Anthropic({ baseURL: sluice.url, apiKey: clientKey, maxRetries: 0, timeout: 20_000 });
});

after(async () => {
  await sluice?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openAiStream(params: Omit<OpenAI.Chat.ChatCompletionCreateParamsStreaming, 'stream'>): Promise<{ chunks: string[]; finish: string | null | undefined; usage: OpenAI.CompletionUsage | undefined; toolCalls: { name: string; arguments: string; id: string }[] }> {
  const stream = await openai.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  const chunks: string[] = [];
  const toolCalls: { name: string; arguments: string; id: string }[] = [];
  let finish: string | null | undefined;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (choice?.delta.content) chunks.push(choice.delta.content);
    for (const call of choice?.delta.tool_calls ?? []) {
      const slot = (toolCalls[call.index] ??= { name: '', arguments: '', id: '' });
      slot.name += call.function?.name ?? '';
      slot.arguments += call.function?.arguments ?? '';
      slot.id += call.id ?? '';
    }
    if (choice?.finish_reason) finish = choice.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  return { chunks, finish, usage, toolCalls };
}

test('OpenAI SDK: the scripted answer streams token by token, with usage from the model tokenizer', async () => {
  const result = await openAiStream({ model: 'tiny', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }], temperature: 1.3 });
  assert.deepEqual(result.chunks, script);
  assert.equal(result.finish, 'stop');
  assert.ok(result.usage !== undefined);
  assert.equal(result.usage.completion_tokens, script.length + 1); // the chunks and <|im_end|>, which the model generated too
  assert.ok(result.usage.prompt_tokens > 10, `prompt tokens ${result.usage.prompt_tokens}`);
  assert.equal(result.usage.total_tokens, result.usage.prompt_tokens + result.usage.completion_tokens);
  const record = sluice.records.at(-1)!;
  assert.equal(record.outcome, 'ok');
  assert.equal(record.usage?.source, 'reported');
  assert.equal(record.usage?.output, script.length + 1);
});

test('OpenAI SDK, non-stream: the whole answer and usage', async () => {
  const completion = await openai.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Say hello' }] });
  assert.equal(completion.choices[0]?.message.content, answer);
  assert.equal(completion.choices[0]?.finish_reason, 'stop');
  assert.equal(completion.usage?.completion_tokens, script.length + 1);
});

test('a stop sequence ends the answer before it, finish_reason stop', async () => {
  const result = await openAiStream({ model: 'tiny', messages: [{ role: 'user', content: 'Say hello' }], stop: [' tiny', 'zzz'] });
  assert.equal(result.chunks.join(''), 'Hello from the');
  assert.equal(result.finish, 'stop');
});

test('Anthropic SDK: the same answer as Messages events, end_turn, usage', async () => {
  const stream = anthropic.messages.stream({ model: 'tiny', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'Say hello' }] });
  const texts: string[] = [];
  stream.on('text', (text) => texts.push(text));
  const message = await stream.finalMessage();
  assert.deepEqual(texts, script);
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.usage.output_tokens, script.length + 1);
  assert.ok(message.usage.input_tokens > 10);
});

test('max_tokens ends with length (OpenAI) and max_tokens (Anthropic); greedy output repeats exactly', async () => {
  const first = await openAiStream({ model: 'noise', messages: [{ role: 'user', content: 'Talk' }], max_tokens: 12, temperature: 0 });
  const second = await openAiStream({ model: 'noise', messages: [{ role: 'user', content: 'Talk' }], max_tokens: 12, temperature: 0 });
  assert.equal(first.finish, 'length');
  assert.equal(first.usage?.completion_tokens, 12);
  assert.ok(first.chunks.join('').length > 0);
  assert.match(first.chunks.join(''), /^[\x20-\x7e]+$/);
  assert.equal(second.chunks.join(''), first.chunks.join(''));
  // Greedy: both APIs default to temperature 1 (this SDK version's types lack the field).
  const greedy = { model: 'noise', max_tokens: 12, temperature: 0, messages: [{ role: 'user' as const, content: 'Talk' }] };
  const message = await anthropic.messages.create(greedy);
  assert.equal(message.stop_reason, 'max_tokens');
  assert.equal(message.usage.output_tokens, 12);
  assert.equal(message.content[0]?.type === 'text' ? message.content[0].text : '', first.chunks.join(''));
});

test('without max_tokens a model that never stops ends where its context ends: length, not an endless context shift', async () => {
  const completion = await openai.chat.completions.create({ model: 'noise', messages: [{ role: 'user', content: 'Talk' }] });
  assert.equal(completion.choices[0]?.finish_reason, 'length');
  const usage = completion.usage!;
  assert.equal(usage.prompt_tokens + usage.completion_tokens, 2048);
});

test('a tool call: OpenAI tool_calls with an id, Anthropic tool_use', async () => {
  const result = await openAiStream({ model: 'weather', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool] });
  assert.equal(result.finish, 'tool_calls');
  assert.equal(result.toolCalls.length, 1);
  assert.equal(result.toolCalls[0]!.name, 'get_weather');
  assert.deepEqual(JSON.parse(result.toolCalls[0]!.arguments), { city: 'Paris' });
  assert.match(result.toolCalls[0]!.id, /^call_/);

  const message = await anthropic.messages.stream({
    model: 'weather', max_tokens: 200, messages: [{ role: 'user', content: 'Weather in Paris?' }],
    tools: [{ name: 'get_weather', description: 'The weather in a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
  }).finalMessage();
  assert.equal(message.stop_reason, 'tool_use');
  const use = message.content.find((block) => block.type === 'tool_use');
  assert.ok(use?.type === 'tool_use');
  assert.equal(use.name, 'get_weather');
  assert.deepEqual(use.input, { city: 'Paris' });
});

test('a tool result goes back to the model as the call result; images are refused with 400; a missing file is a 502 naming it', async () => {
  const withResult = (result: string) => openai.chat.completions.create({
    model: 'tiny',
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: result },
    ],
    tools: [weatherTool],
  });
  const short = await withResult('Sunny, 21 C');
  const longer = await withResult('Sunny, 21 C and windy');
  assert.equal(short.choices[0]?.message.content, answer);
  // The test vocabulary has one token per ASCII character (and ▁ per space): the result is in the prompt.
  assert.equal((longer.usage?.prompt_tokens ?? 0) - (short.usage?.prompt_tokens ?? 0), ' and windy'.length);
  await assert.rejects(
    openai.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] }),
    (error: unknown) => { assert.ok(error instanceof OpenAI.APIError && error.status === 400 && /text only/.test(error.message), String(error)); return true; },
  );
  await assert.rejects(
    openai.chat.completions.create({ model: 'missing', messages: [{ role: 'user', content: 'hi' }] }),
    (error: unknown) => { assert.ok(error instanceof OpenAI.APIError && error.status === 502 && /nope\.gguf is not in/.test(error.message), String(error)); return true; },
  );
});

test('a file that is no model: a clear error naming it, and Sluice keeps serving the others', async () => {
  for (let i = 0; i < 2; i++) {
    await assert.rejects(
      openai.chat.completions.create({ model: 'broken', messages: [{ role: 'user', content: 'hi' }] }),
      (error: unknown) => { assert.ok(error instanceof OpenAI.APIError && error.status === 500 && /broken\.gguf could not be loaded: not a GGUF model file/.test(error.message), String(error)); return true; },
    );
  }
  const completion = await openai.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Say hello' }] });
  assert.equal(completion.choices[0]?.message.content, answer);
});

test('a client that disconnects mid-stream stops generation; the partial usage is settled', async () => {
  const controller = new AbortController();
  const stream = await openai.chat.completions.create(
    { model: 'noise', messages: [{ role: 'user', content: 'Talk a lot' }], max_tokens: 1500, temperature: 0, stream: true },
    { signal: controller.signal },
  );
  let seen = 0;
  // The SDK ends the iteration quietly when its own signal aborts it.
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.content) seen++;
    if (seen === 5) controller.abort();
  }
  assert.equal(seen, 5);
  await eventually(() => sluice.records.some((r) => r.model === 'noise' && r.outcome !== 'ok'), 5000, 'the aborted request recorded');
  const record = sluice.records.findLast((r) => r.model === 'noise')!;
  assert.equal(record.outcome, 'client_aborted');
  assert.ok(record.usage !== undefined && record.usage.output >= 5 && record.usage.output < 1500, `output ${record.usage?.output}`);
  assert.ok(record.usage.input > 0);
  assert.equal(record.usage.source, 'reported', 'counted by the model, not estimated');
});

test('an Anthropic client that disconnects mid-stream stops generation too; partial usage settled', async () => {
  const before = sluice.records.length;
  const stream = anthropic.messages.stream({ model: 'noise', max_tokens: 1500, messages: [{ role: 'user', content: 'Talk a lot' }] });
  let seen = 0;
  stream.on('text', () => { if (++seen === 5) stream.abort(); });
  await assert.rejects(stream.finalMessage());
  await eventually(() => sluice.records.length > before, 5000, 'the aborted request recorded');
  const record = sluice.records.at(-1)!;
  assert.equal(record.protocol, 'anthropic');
  assert.equal(record.outcome, 'client_aborted');
  assert.ok(record.usage !== undefined && record.usage.output >= 5 && record.usage.output < 1500, `output ${record.usage?.output}`);
  assert.ok(record.usage.input > 0);
  // Translated too, the trailing usage chunk (choices: []) is final: counted by the model.
  assert.equal(record.usage.source, 'reported');
});

test('N sequences generate at once, requests past N queue, past the queue a 429 with Retry-After', async () => {
  const long = (maxTokens = 400): Promise<{ finish: string | null | undefined }> => openAiStream({ model: 'noise', messages: [{ role: 'user', content: 'Talk' }], max_tokens: maxTokens, temperature: 0 });
  // 2 sequences + 2 queued: all four complete.
  const four = await Promise.all([long(), long(), long(), long()]);
  assert.deepEqual(four.map((r) => r.finish), ['length', 'length', 'length', 'length']);
  // 2 running + 2 queued + 1 more: refused at once.
  const running = [long(1500), long(1500), long(), long()];
  await new Promise((r) => setTimeout(r, 300));
  const response = await fetch(`${sluice.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'noise', messages: [{ role: 'user', content: 'Talk' }], max_tokens: 5 }),
  });
  assert.equal(response.status, 429);
  assert.equal(response.headers.get('retry-after'), '1');
  assert.match(JSON.stringify(await response.json()), /busy/);
  const settled = await Promise.all(running);
  assert.deepEqual(settled.map((r) => r.finish), ['length', 'length', 'length', 'length']);
});
