/**
 * Translation edge cases the matrix does not reach: a Claude-Code-shaped conversation on foreign
 * upstreams, client disconnects on translated and passthrough streams, Anthropic passthrough
 * fidelity (unknown events, beta header, model name, 529 fallback), stop sequences, non-stream
 * tool calls both ways, interleaved block kinds, and backpressure on a translated stream.
 * Upstreams are scripted on loopback; every server is closed by t.after, every request bounded.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { checkAnthropicStream } from './support/anthropic-wire-check.js';
import { rawHttpRequest } from './support/raw-http.js';
import { anthropicTools, openAiTools, type Json } from './support/clients.js';
import { clientsFor, matrixConfig, startKindUpstream, type ConfigProvider } from './support/matrix.js';
import { anthropicFrame, anthropicSseHeaders, sendAnthropicError } from './support/scripted-anthropic.js';
import { geminiFrame, geminiSseHeaders } from './support/scripted-gemini.js';
import { sseHeaders, sleep, type UpstreamScript } from './support/scripted-upstream.js';
import { chunk, usageChunk } from './support/chunks.js';
import type { UpstreamKind } from './support/scenarios.js';
import { clientKey, eventually, startSluice, type TestSluice } from './support/sluice.js';

const MiB = 1024 * 1024;

interface Setup {
  sluice: TestSluice;
  openai: OpenAI;
  anthropic: Anthropic;
}

/** Sluice with one model `m` routed to `routes` (provider names up0, up1, ... in order). */
async function setup(t: TestContext, upstreams: { kind: UpstreamKind; script?: UpstreamScript }[], routes?: string[]): Promise<Setup & { ups: Awaited<ReturnType<typeof startKindUpstream>>[] }> {
  const ups = [];
  const providers: ConfigProvider[] = [];
  for (const [i, u] of upstreams.entries()) {
    const up = await startKindUpstream(t, u.kind, u.script);
    ups.push(up);
    providers.push({ name: `up${i}`, kind: u.kind, baseUrl: up.baseUrl });
  }
  const sluice = await startSluice(matrixConfig(providers, { m: routes ?? providers.map((p) => `${p.name}/upstream-model`) }));
  t.after(() => sluice.close(100));
  return { sluice, ups, ...clientsFor(sluice) };
}

// ---------------------------------------------------------------------------------------------
// 1. Claude Code on foreign upstreams
// ---------------------------------------------------------------------------------------------

const ccHeaders = {
  authorization: `Bearer ${clientKey}`,
  'anthropic-version': '2023-06-01',
  'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14',
  'x-app': 'cli',
  'user-agent': 'claude-cli/2.1.0 (external, cli)',
};

const ccTools = anthropicTools.map((tool, i) => (i === anthropicTools.length - 1 ? { ...tool, cache_control: { type: 'ephemeral' } } : tool));

function ccBody(messages: Json[]): Json {
  return {
    model: 'm',
    max_tokens: 32000,
    stream: true,
    system: [
      { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'You are an interactive CLI tool.', cache_control: { type: 'ephemeral' } },
    ],
    messages,
    tools: ccTools,
    metadata: { user_id: 'user_abc_account_def_session_0123' },
    thinking: { type: 'enabled', budget_tokens: 16000 },
    temperature: 1,
  };
}

const firstUser = { role: 'user', content: [{ type: 'text', text: 'What is the weather in Paris?', cache_control: { type: 'ephemeral' } }] };

/** Turn 1: thinking, then a tool call. Turn 2 (history with thinking, tool_use, tool_result): text. */
function foreignScript(kind: 'openai' | 'gemini'): UpstreamScript {
  return async (request, res) => {
    const secondTurn = JSON.stringify(request.body).includes('"18C and sunny"');
    if (kind === 'openai') {
      const o = { id: 'chatcmpl-cc', model: 'upstream-model', usageNull: true };
      res.writeHead(200, sseHeaders);
      const frames: Json[] = [chunk({ role: 'assistant', content: null }, null, o)];
      if (!secondTurn) {
        frames.push(chunk({ reasoning_content: 'I should call' }, null, o), chunk({ reasoning_content: ' get_weather.' }, null, o));
        frames.push(chunk({ tool_calls: [{ index: 0, id: 'call_cc_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }, null, o));
        frames.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, null, o));
        frames.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }, null, o));
        frames.push(chunk({}, 'tool_calls', o));
      } else {
        frames.push(chunk({ content: 'It is 18C' }, null, o), chunk({ content: ' and sunny.' }, null, o), chunk({}, 'stop', o));
      }
      frames.push(usageChunk(40, 12, o));
      for (const f of frames) res.write(`data: ${JSON.stringify(f)}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    res.writeHead(200, geminiSseHeaders);
    const usageMetadata = { promptTokenCount: 40, candidatesTokenCount: 12, totalTokenCount: 52 };
    const parts = secondTurn
      ? [[{ text: 'It is 18C' }], [{ text: ' and sunny.' }]]
      : [[{ text: 'I should call get_weather.', thought: true }], [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'R2VtaW5pU2ln' }]];
    parts.forEach((p, i) => {
      const candidate: Json = { content: { role: 'model', parts: p }, index: 0 };
      if (i === parts.length - 1) candidate.finishReason = 'STOP';
      res.write(geminiFrame({ candidates: [candidate], usageMetadata, modelVersion: 'upstream-model' }));
    });
    res.end();
  };
}

for (const kind of ['openai', 'gemini'] as const) {
  test(`Claude Code shape -> ${kind}: ?beta=true, Bearer, anthropic-beta, cache_control, thinking; two turns with tool_use round trip`, async (t) => {
    const s = await setup(t, [{ kind, script: foreignScript(kind) }]);
    const url = `${s.sluice.url}/v1/messages?beta=true`;

    const count = await rawHttpRequest(`${s.sluice.url}/v1/messages/count_tokens?beta=true`, {
      body: { ...ccBody([firstUser]), stream: undefined, max_tokens: undefined },
      headers: ccHeaders,
      auth: false,
      timeoutMs: 5000,
    });
    await count.done;
    assert.equal(count.status, 200, count.text);
    assert.ok((JSON.parse(count.text) as Json).input_tokens > 0);

    const first = await rawHttpRequest(url, { body: ccBody([firstUser]), headers: ccHeaders, auth: false, timeoutMs: 5000 });
    await first.done;
    assert.equal(first.status, 200, first.text);
    const report1 = checkAnthropicStream(first.text);
    assert.deepEqual(report1.violations, []);
    assert.deepEqual(report1.blocks.map((b) => b.type), ['thinking', 'tool_use']);
    assert.equal(report1.stopReason, 'tool_use');
    const toolBlock = report1.blocks[1]!;
    assert.deepEqual(JSON.parse(toolBlock.partialJson), { city: 'Paris' });
    const thinking = report1.blocks[0]!;

    // The history as Claude Code sends it back: thinking (with the signature it got, here none), tool_use, tool_result.
    const history = [
      firstUser,
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: thinking.thinking, signature: thinking.signature ?? '' },
          { type: 'tool_use', id: toolBlock.id, name: toolBlock.name, input: JSON.parse(toolBlock.partialJson) },
        ],
      },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: toolBlock.id, content: [{ type: 'text', text: '18C and sunny' }], cache_control: { type: 'ephemeral' } }],
      },
    ];
    const second = await rawHttpRequest(url, { body: ccBody(history), headers: ccHeaders, auth: false, timeoutMs: 5000 });
    await second.done;
    assert.equal(second.status, 200, second.text);
    const report2 = checkAnthropicStream(second.text);
    assert.deepEqual(report2.violations, []);
    assert.equal(report2.blocks.map((b) => b.text).join(''), 'It is 18C and sunny.');
    assert.equal(report2.stopReason, 'end_turn');

    // The same second turn through the SDK.
    const final = await s.anthropic.messages
      .stream(ccBody(history) as Anthropic.Messages.MessageStreamParams, { headers: { 'anthropic-beta': ccHeaders['anthropic-beta'] }, signal: AbortSignal.timeout(5000) })
      .finalMessage();
    assert.equal(final.content.map((b) => (b.type === 'text' ? b.text : '')).join(''), 'It is 18C and sunny.');

    const up = s.ups[0]!.upstream.requests;
    const secondBody = up[up.length - 1]!.body;
    if (kind === 'openai') {
      const messages = secondBody.messages as Json[];
      const assistant = messages.find((m) => m.role === 'assistant')!;
      assert.equal(assistant.tool_calls[0].id, toolBlock.id);
      const tool = messages.find((m) => m.role === 'tool')!;
      assert.equal(tool.tool_call_id, toolBlock.id);
      assert.equal(tool.content, '18C and sunny');
    } else {
      const contents = secondBody.contents as Json[];
      assert.deepEqual(contents.map((c) => c.role), ['user', 'model', 'user']);
      assert.deepEqual(contents[2]!.parts[0].functionResponse, { name: 'get_weather', response: { output: '18C and sunny' } });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Client disconnect mid-stream
// ---------------------------------------------------------------------------------------------

/** An upstream that streams content forever, one frame every 20 ms, until its connection closes. */
function endless(kind: UpstreamKind): UpstreamScript {
  return async (request, res) => {
    let closed = false;
    void request.closed.then(() => (closed = true));
    if (kind === 'openai') {
      res.writeHead(200, sseHeaders);
      res.write(`data: ${JSON.stringify(chunk({ role: 'assistant', content: '' }))}\n\n`);
      while (!closed) {
        res.write(`data: ${JSON.stringify(chunk({ content: 'tick ' }))}\n\n`);
        await sleep(20);
      }
    } else if (kind === 'gemini') {
      res.writeHead(200, geminiSseHeaders);
      while (!closed) {
        res.write(geminiFrame({ candidates: [{ content: { role: 'model', parts: [{ text: 'tick ' }] }, index: 0 }] }));
        await sleep(20);
      }
    } else {
      res.writeHead(200, anthropicSseHeaders);
      res.write(anthropicFrame({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'x', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 } } }));
      res.write(anthropicFrame({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
      while (!closed) {
        res.write(anthropicFrame({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'tick ' } }));
        await sleep(20);
      }
    }
  };
}

const disconnectCases: { client: 'openai' | 'anthropic'; kind: UpstreamKind }[] = [
  { client: 'anthropic', kind: 'openai' },
  { client: 'openai', kind: 'gemini' },
  { client: 'anthropic', kind: 'gemini' },
  { client: 'openai', kind: 'anthropic' },
  { client: 'anthropic', kind: 'anthropic' },
];

for (const { client, kind } of disconnectCases) {
  test(`client disconnect mid-stream: ${client} client -> ${kind} upstream closes the upstream within 1 s`, async (t) => {
    const s = await setup(t, [{ kind, script: endless(kind) }]);
    const path = client === 'openai' ? '/v1/chat/completions' : '/v1/messages';
    const body = client === 'openai' ? { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] } : { model: 'm', stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };
    const raw = await rawHttpRequest(`${s.sluice.url}${path}`, { body, headers: { 'anthropic-version': '2023-06-01' }, timeoutMs: 5000, agent: false });
    t.after(() => raw.destroy());
    await raw.waitFor((text) => (text.match(/tick/g) ?? []).length >= 3, 3000);
    const upstream = s.ups[0]!.upstream.requests[0]!;
    raw.destroy();
    const at = Date.now();
    const result = await Promise.race([upstream.closed.then(() => 'closed'), sleep(1000).then(() => 'open')]);
    assert.equal(result, 'closed', `the upstream connection is still open ${Date.now() - at} ms after the client left`);
    await eventually(() => s.sluice.records.length === 1, 2000, 'the request record');
    assert.equal(s.sluice.records[0]!.outcome, 'client_aborted');
  });
}

// ---------------------------------------------------------------------------------------------
// 3. Anthropic passthrough fidelity
// ---------------------------------------------------------------------------------------------

test('Anthropic passthrough: unknown events and fields byte-for-byte, anthropic-beta forwarded, public model in message_start', async (t) => {
  const unknownEvent = 'event: future_event\ndata: {"type":"future_event","weird":{"nested":[1,2.50,"\\u00e9"]},"z":null}\n\n';
  const deltaWithExtra = '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi","new_field":1},"extra_top":"x"}';
  const script: UpstreamScript = (request, res) => {
    res.writeHead(200, anthropicSseHeaders);
    res.write(anthropicFrame({ type: 'message_start', message: { id: 'msg_p', type: 'message', role: 'assistant', model: 'claude-upstream-id', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1, brand_new_usage: 3 }, container: null } }));
    res.write(unknownEvent);
    res.write(anthropicFrame({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', extra_block_field: true } }));
    res.write(`event: content_block_delta\ndata: ${deltaWithExtra}\n\n`);
    res.write(anthropicFrame({ type: 'content_block_stop', index: 0 }));
    res.write(anthropicFrame({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null, stop_details: { kind: 'new' } }, usage: { output_tokens: 2 } }));
    res.end(anthropicFrame({ type: 'message_stop' }));
  };
  const s = await setup(t, [{ kind: 'anthropic', script }]);
  const raw = await rawHttpRequest(`${s.sluice.url}/v1/messages?beta=true`, {
    body: { model: 'm', stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], brand_new_param: { a: 1 } },
    headers: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'beta-one,beta-two' },
    timeoutMs: 5000,
  });
  await raw.done;
  assert.equal(raw.status, 200, raw.text);
  assert.ok(raw.text.includes(unknownEvent), 'the unknown event survives byte for byte');
  assert.ok(raw.text.includes(`data: ${deltaWithExtra}\n\n`), 'unknown fields in a delta survive byte for byte');
  assert.ok(raw.text.includes('"extra_block_field":true'));
  assert.ok(raw.text.includes('"stop_details":{"kind":"new"}'));
  const start = JSON.parse(/event: message_start\ndata: (.*)\n/.exec(raw.text)![1]!) as Json;
  assert.equal(start.message.model, 'm');
  assert.equal(start.message.usage.brand_new_usage, 3);
  assert.ok(!raw.text.includes('claude-upstream-id'));
  const up = s.ups[0]!.upstream.requests[0]!;
  assert.equal(up.headers['anthropic-beta'], 'beta-one,beta-two');
  assert.deepEqual(up.body.brand_new_param, { a: 1 });
  assert.equal(up.body.model, 'upstream-model');
});

test('Anthropic passthrough: 529 before content falls back to the next route; with no next route the client gets 529 overloaded_error', async (t) => {
  const overloaded: UpstreamScript = (_request, res) => sendAnthropicError(res, 529);
  const s = await setup(t, [{ kind: 'anthropic', script: overloaded }, { kind: 'anthropic' }], ['up0/text', 'up1/text']);
  const final = await s.anthropic.messages.stream({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }, { signal: AbortSignal.timeout(5000) }).finalMessage();
  assert.equal(final.content.map((b) => (b.type === 'text' ? b.text : '')).join(''), 'Hello from the scripted upstream.');
  assert.equal(s.ups[0]!.upstream.requests.length, 1);

  const only = await setup(t, [{ kind: 'anthropic', script: overloaded }]);
  for (const stream of [true, false]) {
    const raw = await rawHttpRequest(`${only.sluice.url}/v1/messages`, {
      body: { model: 'm', stream, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] },
      headers: { 'anthropic-version': '2023-06-01' },
      timeoutMs: 5000,
    });
    await raw.done;
    assert.equal(raw.status, 529, raw.text);
    const body = JSON.parse(raw.text) as Json;
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'overloaded_error');
  }
  await assert.rejects(
    only.anthropic.messages.stream({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }, { signal: AbortSignal.timeout(5000) }).finalMessage(),
    (e: unknown) => e instanceof Anthropic.APIError && e.status === 529,
  );
});

// ---------------------------------------------------------------------------------------------
// 4. Stop sequences
// ---------------------------------------------------------------------------------------------

test('stop sequences: OpenAI client -> Anthropic upstream stopping on a stop sequence gets finish_reason stop (stream and unary)', async (t) => {
  const script: UpstreamScript = (request, res) => {
    assert.deepEqual(request.body.stop_sequences, ['END']);
    const usage = { input_tokens: 5, output_tokens: 3 };
    if (request.body.stream === true) {
      res.writeHead(200, anthropicSseHeaders);
      res.write(anthropicFrame({ type: 'message_start', message: { id: 'msg_s', type: 'message', role: 'assistant', model: 'x', content: [], stop_reason: null, stop_sequence: null, usage } }));
      res.write(anthropicFrame({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
      res.write(anthropicFrame({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'one two' } }));
      res.write(anthropicFrame({ type: 'content_block_stop', index: 0 }));
      res.write(anthropicFrame({ type: 'message_delta', delta: { stop_reason: 'stop_sequence', stop_sequence: 'END' }, usage: { output_tokens: 3 } }));
      res.end(anthropicFrame({ type: 'message_stop' }));
      return;
    }
    const text = JSON.stringify({ id: 'msg_s', type: 'message', role: 'assistant', model: 'x', content: [{ type: 'text', text: 'one two' }], stop_reason: 'stop_sequence', stop_sequence: 'END', usage });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(text);
  };
  const s = await setup(t, [{ kind: 'anthropic', script }]);
  const body = { model: 'm', messages: [{ role: 'user' as const, content: 'count' }], stop: ['END'] };
  const streamed = await s.openai.chat.completions.stream({ ...body, stream: true }, { signal: AbortSignal.timeout(5000) }).finalChatCompletion();
  assert.equal(streamed.choices[0]!.finish_reason, 'stop');
  assert.equal(streamed.choices[0]!.message.content, 'one two');
  const unary = await s.openai.chat.completions.create(body, { signal: AbortSignal.timeout(5000) });
  assert.equal(unary.choices[0]!.finish_reason, 'stop');
});

test('stop sequences: Anthropic client -> OpenAI upstream that says "stop" gets end_turn with stop_sequence null (OpenAI does not say which sequence, if any, matched)', async (t) => {
  const script: UpstreamScript = (request, res) => {
    assert.deepEqual(request.body.stop, ['END']);
    res.writeHead(200, sseHeaders);
    for (const f of [chunk({ role: 'assistant', content: '' }), chunk({ content: 'one two' }), chunk({}, 'stop'), usageChunk(5, 3)]) res.write(`data: ${JSON.stringify(f)}\n\n`);
    res.end('data: [DONE]\n\n');
  };
  const s = await setup(t, [{ kind: 'openai', script }]);
  const final = await s.anthropic.messages.stream({ model: 'm', max_tokens: 100, stop_sequences: ['END'], messages: [{ role: 'user', content: 'count' }] }, { signal: AbortSignal.timeout(5000) }).finalMessage();
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(final.stop_sequence, null);
});

// ---------------------------------------------------------------------------------------------
// 5. Non-stream tool calls both directions
// ---------------------------------------------------------------------------------------------

test('non-stream tool calls: OpenAI client -> Anthropic upstream keeps ids and turns input objects into argument strings', async (t) => {
  const script: UpstreamScript = (_request, res) => {
    const text = JSON.stringify({
      id: 'msg_t', type: 'message', role: 'assistant', model: 'x', stop_reason: 'tool_use', stop_sequence: null, usage: { input_tokens: 5, output_tokens: 9 },
      content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris', nested: { deep: [1, 'x'] } } },
        { type: 'tool_use', id: 'toolu_01B', name: 'get_time', input: {} },
      ],
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(text);
  };
  const s = await setup(t, [{ kind: 'anthropic', script }]);
  const completion = await s.openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'go' }], tools: openAiTools }, { signal: AbortSignal.timeout(5000) });
  const choice = completion.choices[0]!;
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, 'Checking.');
  const calls = (choice.message.tool_calls ?? []).map((c) => (c.type === 'function' ? [c.id, c.function.name, JSON.parse(c.function.arguments)] : []));
  assert.deepEqual(calls, [
    ['toolu_01A', 'get_weather', { city: 'Paris', nested: { deep: [1, 'x'] } }],
    ['toolu_01B', 'get_time', {}],
  ]);
  for (const c of choice.message.tool_calls ?? []) if (c.type === 'function') assert.equal(typeof c.function.arguments, 'string');
});

test('non-stream tool calls: Anthropic client -> OpenAI upstream keeps ids and turns argument strings into input objects', async (t) => {
  const script: UpstreamScript = (_request, res) => {
    const text = JSON.stringify({
      id: 'chatcmpl-t', object: 'chat.completion', created: 1, model: 'x',
      choices: [{ index: 0, finish_reason: 'tool_calls', logprobs: null, message: { role: 'assistant', content: null, refusal: null, tool_calls: [
        { id: 'call_A', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","n":[1,2]}' } },
        { id: 'call_B', type: 'function', function: { name: 'get_time', arguments: '' } },
      ] } }],
      usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 },
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(text);
  };
  const s = await setup(t, [{ kind: 'openai', script }]);
  const message = await s.anthropic.messages.create({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'go' }], tools: anthropicTools }, { signal: AbortSignal.timeout(5000) });
  assert.equal(message.stop_reason, 'tool_use');
  const blocks = message.content.map((b) => (b.type === 'tool_use' ? [b.id, b.name, b.input] : [b.type]));
  assert.deepEqual(blocks, [
    ['call_A', 'get_weather', { city: 'Paris', n: [1, 2] }],
    ['call_B', 'get_time', {}],
  ]);
});

// ---------------------------------------------------------------------------------------------
// 6. Interleaved block kinds
// ---------------------------------------------------------------------------------------------

test('Anthropic client streaming text, a tool call, then more text from an OpenAI upstream: consecutive indexes, every block closed, order kept', async (t) => {
  const script: UpstreamScript = (_request, res) => {
    res.writeHead(200, sseHeaders);
    const frames = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Before.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_I', type: 'function', function: { name: 'get_weather', arguments: '{"city"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ':"Paris"}' } }] }),
      chunk({ content: 'After.' }),
      chunk({}, 'tool_calls'),
      usageChunk(5, 9),
    ];
    for (const f of frames) res.write(`data: ${JSON.stringify(f)}\n\n`);
    res.end('data: [DONE]\n\n');
  };
  const s = await setup(t, [{ kind: 'openai', script }]);
  const raw = await rawHttpRequest(`${s.sluice.url}/v1/messages`, { body: { model: 'm', stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'go' }], tools: anthropicTools }, headers: { 'anthropic-version': '2023-06-01' }, timeoutMs: 5000 });
  await raw.done;
  const report = checkAnthropicStream(raw.text);
  assert.deepEqual(report.violations, []);
  assert.deepEqual(report.blocks.map((b) => b.type), ['text', 'tool_use', 'text']);
  const final = await s.anthropic.messages.stream({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'go' }], tools: anthropicTools }, { signal: AbortSignal.timeout(5000) }).finalMessage();
  assert.deepEqual(final.content.map((b) => (b.type === 'text' ? b.text : b.type === 'tool_use' ? b.input : b.type)), ['Before.', { city: 'Paris' }, 'After.']);
  assert.equal(final.stop_reason, 'tool_use');
});

// ---------------------------------------------------------------------------------------------
// 7. Backpressure on a translated stream
// ---------------------------------------------------------------------------------------------

for (const kind of ['openai', 'gemini'] as const) {
  test(`backpressure: Anthropic client -> ${kind} upstream; a client that reads nothing makes Sluice stop reading; then every byte arrives`, async (t) => {
    const pieceSize = 16 * 1024;
    const count = 4096; // 64 MiB of text
    const piece = (k: number): string => String.fromCharCode(97 + (k % 26)).repeat(pieceSize);
    let written = 0;
    let finished = false;
    const script: UpstreamScript = async (request, res) => {
      res.writeHead(200, kind === 'openai' ? sseHeaders : geminiSseHeaders);
      const closed = request.closed.then(() => 'closed' as const);
      for (let k = 0; k < count; k++) {
        const frame = kind === 'openai'
          ? `data: ${JSON.stringify(chunk(k === 0 ? { role: 'assistant', content: piece(k) } : { content: piece(k) }))}\n\n`
          : geminiFrame({ candidates: [{ content: { role: 'model', parts: [{ text: piece(k) }] }, index: 0 }] });
        written += frame.length;
        if (!res.write(frame)) {
          const why = await Promise.race([once(res, 'drain').then(() => 'drain' as const), closed]);
          if (why === 'closed') return;
        }
      }
      if (kind === 'openai') res.end(`data: ${JSON.stringify(chunk({}, 'stop'))}\n\ndata: [DONE]\n\n`);
      else res.end(geminiFrame({ candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 5, totalTokenCount: 8 } }));
      finished = true;
    };
    const s = await setup(t, [{ kind, script }]);
    const req = http.request(`${s.sluice.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': clientKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' } });
    t.after(() => req.destroy());
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'm', stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'go' }] }));
    });
    response.pause();
    await sleep(1500);
    assert.equal(response.statusCode, 200);
    assert.equal(finished, false, 'the upstream must not have been able to write everything');
    assert.ok(written < 48 * MiB, `Sluice must stop reading the upstream while the client reads nothing; the upstream wrote ${(written / MiB).toFixed(1)} MiB`);
    response.setEncoding('utf8');
    let textLength = 0;
    let buffer = '';
    let sawStop = false;
    response.on('data', (s: string) => {
      buffer += s;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (data === undefined) continue;
        const event = JSON.parse(data.slice(6)) as Json;
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') textLength += event.delta.text.length;
        if (event.type === 'message_stop') sawStop = true;
      }
    });
    const ended = new Promise<string>((resolve) => {
      response.on('end', () => resolve('ok'));
      response.on('close', () => resolve(response.complete ? 'ok' : 'cut'));
    });
    response.resume();
    const result = await Promise.race([ended, sleep(30_000).then(() => 'timeout')]);
    assert.equal(result, 'ok');
    assert.equal(textLength, count * pieceSize);
    assert.equal(sawStop, true);
  });
}



test('count_tokens on an Anthropic route forwards anthropic-beta (a beta feature in the body is refused upstream without it)', async (t) => {
  const s = await setup(t, [{ kind: 'anthropic' }]);
  const raw = await rawHttpRequest(`${s.sluice.url}/v1/messages/count_tokens?beta=true`, {
    body: { model: 'm', messages: [{ role: 'user', content: 'hi' }], tools: ccTools },
    headers: ccHeaders,
    auth: false,
    timeoutMs: 5000,
  });
  await raw.done;
  assert.equal(raw.status, 200, raw.text);
  assert.deepEqual(JSON.parse(raw.text), { input_tokens: 42 }, 'the upstream count, not an estimate');
  const up = s.ups[0]!.upstream.requests[0]!;
  assert.ok(up.path.startsWith('/v1/messages/count_tokens'));
  assert.equal(up.headers['anthropic-beta'], ccHeaders['anthropic-beta']);
});

test('Anthropic passthrough drops unsigned (foreign-family) thinking blocks from history, keeps signed ones and the rest', async (t) => {
  const s = await setup(t, [{ kind: 'anthropic' }], ['up0/text']);
  const history = [
    { role: 'user', content: 'first question' },
    {
      role: 'assistant',
      content: [
        // What an Anthropic client got from a non-Anthropic upstream: reasoning with no signature.
        { type: 'thinking', thinking: 'foreign reasoning', signature: '' },
        { type: 'thinking', thinking: 'signed by Anthropic', signature: 'EqQBCkYIBxgC' },
        { type: 'text', text: 'first answer' },
      ],
    },
    { role: 'user', content: 'second question' },
  ];
  await s.anthropic.messages.create({ model: 'm', max_tokens: 100, messages: history as Anthropic.MessageParam[] }, { signal: AbortSignal.timeout(5000) });
  const sent = s.ups[0]!.upstream.requests[0]!.body as { messages: { content: unknown }[] };
  assert.deepEqual(sent.messages[1]?.content, [
    { type: 'thinking', thinking: 'signed by Anthropic', signature: 'EqQBCkYIBxgC' },
    { type: 'text', text: 'first answer' },
  ]);
});
