/**
 * What the upstream receives when Sluice translates, checked on the scripted upstreams'
 * recordings: system prompts, multi-turn history, images, tools and tool_choice, tool calls and
 * tool results (paired by id, in the order each protocol requires), stop sequences, limits,
 * temperature / top_p, JSON response format, reasoning; passthrough exactness within a protocol;
 * a request re-encoded for every fallback hop when routes cross protocols (gateways.md item 23);
 * a clear 400 for what cannot be translated; keep-alives while an upstream is slow (`event: ping`
 * for Anthropic clients, SSE comments, never data, for OpenAI clients).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import type { ScriptedUpstream, UpstreamRequest } from './support/scripted-upstream.js';
import { startKindUpstream, matrixConfig, clientsFor, startMatrix, type Matrix } from './support/matrix.js';
import { anthropicBody, anthropicHelper, anthropicUnary, openAiBody, openAiHelper, openAiTools, anthropicTools, openAiUnary, toolParameters, type Json } from './support/clients.js';
import { anthropicSignature, join, scenarios, upstreamKeys, upstreamKinds, type UpstreamKind } from './support/scenarios.js';
import { startSluice, clientKey, type TestSluice } from './support/sluice.js';
import { rawHttpRequest } from './support/raw-http.js';
import { checkAnthropicStream } from './support/anthropic-wire-check.js';
import { checkOpenAiStream } from './support/openai-wire-check.js';

// ---------------------------------------------------------------------------------------------
// A Sluice in front of one scripted upstream of each kind
// ---------------------------------------------------------------------------------------------

interface World {
  sluice: TestSluice;
  up: Record<UpstreamKind, ScriptedUpstream>;
  openai: OpenAI;
  anthropic: Anthropic;
}

const providerName: Record<UpstreamKind, string> = { openai: 'oai', anthropic: 'ant', gemini: 'gem' };

async function startWorld(t: TestContext): Promise<World> {
  const up = {} as Record<UpstreamKind, ScriptedUpstream>;
  const providers = [];
  for (const kind of upstreamKinds) {
    const started = await startKindUpstream(t, kind);
    up[kind] = started.upstream;
    providers.push({ name: providerName[kind], kind, baseUrl: started.baseUrl });
  }
  const models: Record<string, string[]> = {};
  for (const kind of upstreamKinds) models[`to-${kind}`] = [`${providerName[kind]}/upstream-${kind}-model`];
  // Fallback across protocols: the first route fails with HTTP 500, the second answers.
  for (const first of upstreamKinds) {
    for (const second of upstreamKinds) {
      if (first !== second) {
        models[`fb-${first}-${second}`] = [`${providerName[first]}/http-500`, `${providerName[second]}/text`];
        // The first route accepts the stream, then fails in-band before its first token.
        models[`fb-inband-${first}-${second}`] = [`${providerName[first]}/error-before-content`, `${providerName[second]}/text`];
      }
    }
  }
  // Every fallback test must see its first route tried: the breaker (which would skip a route
  // that keeps failing) is off here; routing tests cover it.
  const sluice = await startSluice(matrixConfig(providers, models, 'health:\n  failure_threshold: 0\n'));
  t.after(() => sluice.close(100));
  const { openai, anthropic } = clientsFor(sluice);
  return { sluice, up, openai, anthropic };
}

/** The one request an upstream got since `reset` (fails when it got none or several). */
function onlyRequest(upstream: ScriptedUpstream): UpstreamRequest {
  assert.equal(upstream.requests.length, 1, `expected one upstream request, got ${upstream.requests.length}`);
  return upstream.requests[0]!;
}

function reset(world: World): void {
  for (const kind of upstreamKinds) world.up[kind].requests.length = 0;
}

/** Text of an Anthropic system prompt or content, whichever form it takes (string or text blocks). */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((b: Json) => (b.type === 'text' ? b.text : '')).join('');
  return '';
}

const pngData = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** An OpenAI conversation with everything that must be translated. */
function openAiConversation(model: string, extra: Json = {}, options: { imageUrl?: boolean } = {}): Json {
  return {
    model,
    messages: [
      { role: 'system', content: 'You are terse.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look at these.' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${pngData}` } },
          ...(options.imageUrl ? [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] : []),
        ],
      },
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [
          { id: 'call_a1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_b2', type: 'function', function: { name: 'get_time', arguments: '{"timezone":"Europe/Paris"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a1', content: '18C and sunny' },
      { role: 'tool', tool_call_id: 'call_b2', content: '14:05' },
      { role: 'user', content: 'Thanks. Summarise.' },
    ],
    tools: openAiTools,
    tool_choice: 'required',
    temperature: 0.3,
    top_p: 0.9,
    stop: ['END'],
    ...extra,
  };
}

/** The same conversation as an Anthropic client says it. */
function anthropicConversation(model: string, extra: Json = {}): Json {
  return {
    model,
    max_tokens: 300,
    system: [{ type: 'text', text: 'You are terse.' }],
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look at these.' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: pngData } },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'I need both tools.', signature: anthropicSignature },
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'toolu_a1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_b2', name: 'get_time', input: { timezone: 'Europe/Paris' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_a1', content: '18C and sunny' },
          { type: 'tool_result', tool_use_id: 'toolu_b2', content: [{ type: 'text', text: '14:05' }] },
          { type: 'text', text: 'Thanks. Summarise.' },
        ],
      },
    ],
    tools: anthropicTools,
    tool_choice: { type: 'any' },
    stop_sequences: ['END'],
    temperature: 0.3,
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// OpenAI client -> Anthropic / Gemini / OpenAI upstream
// ---------------------------------------------------------------------------------------------

function checkAnthropicRequest(request: UpstreamRequest, options: { stream: boolean; maxTokens: number }): void {
  assert.equal(request.path, '/v1/messages');
  assert.equal(request.headers['x-api-key'], upstreamKeys.anthropic, 'x-api-key is the upstream key');
  assert.equal(request.headers['anthropic-version'], '2023-06-01', 'anthropic-version');
  assert.equal(request.headers.authorization, undefined, 'the client key is not forwarded');
  const body = request.body as Json;
  assert.equal(body.model, 'upstream-anthropic-model');
  assert.equal(textOf(body.system), 'You are terse.', 'system at the top level');
  assert.equal(body.max_tokens, options.maxTokens, 'max_tokens');
  assert.equal(body.temperature, 0.3);
  assert.equal(body.top_p, 0.9);
  assert.deepEqual(body.stop_sequences, ['END'], 'stop -> stop_sequences');
  assert.deepEqual(body.tool_choice, { type: 'any' }, 'tool_choice required -> {type: any}');
  assert.equal(body.stream === true, options.stream, 'stream');
  for (const key of ['stop', 'stream_options', 'max_completion_tokens', 'n', 'response_format']) assert.ok(!(key in body), `no OpenAI field ${key}`);
  assert.deepEqual(
    body.tools,
    Object.entries(toolParameters).map(([name, schema]) => ({ name, description: `The ${name.slice(4)} somewhere`, input_schema: schema })),
    'tools with input_schema',
  );
  const messages = body.messages as Json[];
  assert.ok(messages.every((m) => m.role === 'user' || m.role === 'assistant'), `only user/assistant roles: ${messages.map((m) => m.role).join(',')}`);
  assert.equal(messages[0]?.role, 'user');
  assert.deepEqual(messages[0]?.content, [
    { type: 'text', text: 'Look at these.' },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: pngData } },
    { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
  ], 'text and images (base64 and URL)');
  const assistant = messages[1]!;
  assert.equal(assistant.role, 'assistant');
  const assistantBlocks = (typeof assistant.content === 'string' ? [{ type: 'text', text: assistant.content }] : assistant.content) as Json[];
  assert.deepEqual(assistantBlocks, [
    { type: 'text', text: 'Let me check.' },
    { type: 'tool_use', id: 'call_a1', name: 'get_weather', input: { city: 'Paris' } },
    { type: 'tool_use', id: 'call_b2', name: 'get_time', input: { timezone: 'Europe/Paris' } },
  ], 'assistant tool calls as tool_use blocks with parsed input');
  // Every tool_use needs its tool_result in the very next message, tool results first.
  const next = messages[2]!;
  assert.equal(next.role, 'user');
  const results = (next.content as Json[]).filter((b) => b.type === 'tool_result');
  assert.deepEqual(results.map((b) => [b.tool_use_id, textOf(b.content)]), [['call_a1', '18C and sunny'], ['call_b2', '14:05']], 'tool results as tool_result blocks in the next user message');
  assert.ok((next.content as Json[]).slice(0, 2).every((b) => b.type === 'tool_result'), 'tool_result blocks come first');
  const rest = [...(next.content as Json[]).slice(2), ...messages.slice(3).flatMap((m) => (typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content))];
  assert.equal(rest.map((b: Json) => (b.type === 'text' ? b.text : `<${b.type}>`)).join(''), 'Thanks. Summarise.', 'the last user turn');
}

function checkGeminiRequest(request: UpstreamRequest, options: { stream: boolean }): Json {
  const method = options.stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
  assert.equal(request.path, `/v1beta/models/upstream-gemini-model:${method}`);
  assert.equal(request.headers['x-goog-api-key'], upstreamKeys.gemini);
  assert.equal(request.headers.authorization, undefined, 'the client key is not forwarded');
  const body = request.body as Json;
  assert.deepEqual(body.systemInstruction?.parts?.map((p: Json) => p.text).join(''), 'You are terse.', 'systemInstruction');
  const declarations = (body.tools as Json[]).flatMap((t) => t.functionDeclarations ?? []);
  assert.deepEqual(declarations.map((d: Json) => d.name), ['get_weather', 'get_time'], 'functionDeclarations');
  for (const d of declarations) assert.deepEqual(d.parametersJsonSchema ?? d.parameters, toolParameters[d.name as keyof typeof toolParameters], `${d.name} parameters`);
  const contents = body.contents as Json[];
  const roles = contents.map((c) => c.role).join(',');
  assert.ok(['user,model,user', 'user,model,user,user'].includes(roles), `roles user/model/user (the last user turn may stand apart), got ${roles}`);
  assert.deepEqual(contents[0]!.parts, [{ text: 'Look at these.' }, { inlineData: { mimeType: 'image/png', data: pngData } }], 'text and inline image');
  const model = contents[1]!.parts as Json[];
  assert.equal(model.filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join(''), 'Let me check.');
  assert.deepEqual(
    model.filter((p) => p.functionCall).map((p) => ({ name: p.functionCall.name, args: p.functionCall.args })),
    [{ name: 'get_weather', args: { city: 'Paris' } }, { name: 'get_time', args: { timezone: 'Europe/Paris' } }],
    'functionCall parts with args objects',
  );
  const responses = (contents[2]!.parts as Json[]).filter((p) => p.functionResponse);
  assert.deepEqual(responses.map((p) => p.functionResponse.name), ['get_weather', 'get_time'], 'functionResponse carries the function name (found from the call id)');
  for (const [i, expected] of ['18C and sunny', '14:05'].entries()) {
    const response = responses[i]?.functionResponse.response;
    assert.ok(response !== null && typeof response === 'object' && !Array.isArray(response), 'functionResponse.response is an object');
    assert.ok(JSON.stringify(response).includes(expected), `functionResponse ${i} holds the tool output`);
  }
  const lastText = contents.slice(2).flatMap((c) => c.parts as Json[]).filter((p) => typeof p.text === 'string').map((p) => p.text).join('');
  assert.equal(lastText, 'Thanks. Summarise.');
  assert.equal(body.generationConfig?.temperature, 0.3);
  assert.equal(body.generationConfig?.topP, 0.9);
  assert.deepEqual(body.generationConfig?.stopSequences, ['END']);
  assert.equal(body.toolConfig?.functionCallingConfig?.mode, 'ANY', 'tool_choice required/any -> mode ANY');
  return body;
}

test('OpenAI client: what Anthropic, Gemini and OpenAI upstreams receive', { timeout: 60_000 }, async (t) => {
  const w = await startWorld(t);

  await t.test('-> Anthropic (stream): system, default max_tokens, images, tools, tool_use/tool_result', async () => {
    reset(w);
    const outcome = await openAiHelper(w.openai, openAiConversation('to-anthropic', {}, { imageUrl: true }));
    assert.equal(outcome.text, join(scenarios.text.text));
    checkAnthropicRequest(onlyRequest(w.up.anthropic), { stream: true, maxTokens: 1234 });
  });
  await t.test('-> Anthropic (non-stream): max_completion_tokens -> max_tokens', async () => {
    reset(w);
    await openAiUnary(w.openai, openAiConversation('to-anthropic', { max_completion_tokens: 300 }, { imageUrl: true }));
    checkAnthropicRequest(onlyRequest(w.up.anthropic), { stream: false, maxTokens: 300 });
  });
  await t.test('-> Anthropic: max_tokens is honoured', async () => {
    reset(w);
    await openAiUnary(w.openai, openAiBody('to-anthropic', { max_tokens: 77 }));
    assert.equal(onlyRequest(w.up.anthropic).body.max_tokens, 77);
  });
  await t.test('-> Anthropic: reasoning_effort becomes a thinking budget below max_tokens', async () => {
    reset(w);
    await openAiUnary(w.openai, openAiBody('to-anthropic', { reasoning_effort: 'high', max_completion_tokens: 2000 }));
    const body = onlyRequest(w.up.anthropic).body as Json;
    assert.equal(body.thinking?.type, 'enabled', `thinking: ${JSON.stringify(body.thinking)}`);
    assert.ok(Number.isInteger(body.thinking.budget_tokens) && body.thinking.budget_tokens >= 1024, 'budget_tokens >= 1024 (Anthropic minimum)');
    assert.ok(body.max_tokens > body.thinking.budget_tokens, `max_tokens (${body.max_tokens}) > budget_tokens (${body.thinking.budget_tokens}), as Anthropic requires`);
  });
  await t.test('-> Anthropic: n > 1 cannot be translated: a clear 400, and no upstream call', async () => {
    reset(w);
    await assert.rejects(openAiUnary(w.openai, openAiBody('to-anthropic', { n: 2 })), (e) => {
      assert.ok(e instanceof OpenAI.BadRequestError, String(e));
      assert.match(e.message, /\bn\b/);
      return true;
    });
    assert.equal(w.up.anthropic.requests.length, 0);
  });

  await t.test('-> Anthropic: a named tool_choice -> {type: tool, name}; none -> {type: none}', async () => {
    reset(w);
    await openAiUnary(w.openai, openAiBody('to-anthropic', { tool_choice: { type: 'function', function: { name: 'get_time' } } }));
    assert.deepEqual(onlyRequest(w.up.anthropic).body.tool_choice, { type: 'tool', name: 'get_time' });
    reset(w);
    await openAiUnary(w.openai, openAiBody('to-anthropic', { tool_choice: 'none' }));
    const body = onlyRequest(w.up.anthropic).body as Json;
    assert.ok(body.tool_choice?.type === 'none' || !('tools' in body), `tool_choice none: ${JSON.stringify(body.tool_choice)}`);
  });
  await t.test('-> Anthropic: parallel_tool_calls false -> disable_parallel_tool_use', async () => {
    reset(w);
    await openAiUnary(w.openai, openAiBody('to-anthropic', { parallel_tool_calls: false }));
    assert.equal((onlyRequest(w.up.anthropic).body as Json).tool_choice?.disable_parallel_tool_use, true, JSON.stringify(onlyRequest(w.up.anthropic).body.tool_choice));
  });
  await t.test('-> Anthropic: response_format json_object has no faithful translation: a clear 400, no upstream call', async () => {
    reset(w);
    await assert.rejects(openAiUnary(w.openai, openAiBody('to-anthropic', { response_format: { type: 'json_object' } })), (e) => {
      assert.ok(e instanceof OpenAI.BadRequestError, String(e));
      assert.match(e.message, /response_format/);
      return true;
    });
    assert.equal(w.up.anthropic.requests.length, 0);
  });

  await t.test('-> Gemini: a named tool_choice -> mode ANY with allowedFunctionNames; none -> NONE', async () => {
    reset(w);
    await openAiUnary(w.openai, openAiBody('to-gemini', { tool_choice: { type: 'function', function: { name: 'get_time' } } }));
    assert.deepEqual((onlyRequest(w.up.gemini).body as Json).toolConfig?.functionCallingConfig, { mode: 'ANY', allowedFunctionNames: ['get_time'] });
    reset(w);
    await openAiUnary(w.openai, openAiBody('to-gemini', { tool_choice: 'none' }));
    const body = onlyRequest(w.up.gemini).body as Json;
    assert.ok(body.toolConfig?.functionCallingConfig?.mode === 'NONE' || !('tools' in body), `tool_choice none: ${JSON.stringify(body.toolConfig)}`);
  });

  await t.test('-> Gemini (stream): systemInstruction, functionDeclarations, functionCall/functionResponse with the name', async () => {
    reset(w);
    const outcome = await openAiHelper(w.openai, openAiConversation('to-gemini', { max_completion_tokens: 300 }));
    assert.equal(outcome.text, join(scenarios.text.text));
    const body = checkGeminiRequest(onlyRequest(w.up.gemini), { stream: true });
    assert.equal(body.generationConfig?.maxOutputTokens, 300);
  });
  await t.test('-> Gemini (non-stream): JSON response format -> responseMimeType + schema', async () => {
    reset(w);
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    await openAiUnary(w.openai, openAiConversation('to-gemini', { response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } } }));
    const body = checkGeminiRequest(onlyRequest(w.up.gemini), { stream: false });
    assert.equal(body.generationConfig?.responseMimeType, 'application/json');
    assert.deepEqual(body.generationConfig?.responseJsonSchema ?? body.generationConfig?.responseSchema, schema);
  });
  await t.test('-> Gemini: reasoning_effort becomes a thinkingConfig that returns thoughts', async () => {
    reset(w);
    await openAiUnary(w.openai, openAiBody('to-gemini', { reasoning_effort: 'low' }));
    const config = (onlyRequest(w.up.gemini).body as Json).generationConfig?.thinkingConfig;
    assert.ok(config && (Number.isInteger(config.thinkingBudget) || typeof config.thinkingLevel === 'string'), `thinkingConfig: ${JSON.stringify(config)}`);
    assert.equal(config.includeThoughts, true, 'includeThoughts, or the reasoning never comes back');
  });

  await t.test('-> OpenAI: passthrough keeps the body (model replaced)', async () => {
    reset(w);
    const body = openAiConversation('to-openai', { max_completion_tokens: 300, seed: 7, user: 'u-1' }, { imageUrl: true });
    await openAiUnary(w.openai, body);
    const got = onlyRequest(w.up.openai).body;
    assert.deepEqual({ ...got, model: undefined }, { ...body, model: undefined, stream: false });
    assert.equal(got.model, 'upstream-openai-model');
  });
});

// ---------------------------------------------------------------------------------------------
// Anthropic client -> OpenAI / Gemini / Anthropic upstream
// ---------------------------------------------------------------------------------------------

test('Anthropic client: what OpenAI, Gemini and Anthropic upstreams receive', { timeout: 60_000 }, async (t) => {
  const w = await startWorld(t);

  for (const stream of [true, false]) {
    await t.test(`-> OpenAI (${stream ? 'stream' : 'non-stream'}): system message, tool_calls, tool messages right after, image data URL`, async () => {
      reset(w);
      const run = stream ? anthropicHelper : anthropicUnary;
      const outcome = await run(w.anthropic, anthropicConversation('to-openai'));
      assert.equal(outcome.text, join(scenarios.text.text));
      const request = onlyRequest(w.up.openai);
      assert.equal(request.path, '/v1/chat/completions');
      assert.equal(request.headers.authorization, `Bearer ${upstreamKeys.openai}`);
      const body = request.body as Json;
      assert.equal(body.model, 'upstream-openai-model');
      assert.equal(body.stream === true, stream);
      if (stream) assert.deepEqual(body.stream_options, { include_usage: true }, 'usage asked for in translated streams');
      assert.equal(body.max_tokens ?? body.max_completion_tokens, 300);
      assert.deepEqual(body.stop, ['END'], 'stop_sequences -> stop');
      assert.equal(body.temperature, 0.3);
      assert.equal(body.tool_choice, 'required', 'tool_choice any -> required');
      assert.deepEqual(body.tools, openAiTools.map((x) => ({ ...x, function: { ...x.function } })), 'tools as functions with parameters');
      const messages = body.messages as Json[];
      assert.deepEqual(messages.map((m) => m.role), ['system', 'user', 'assistant', 'tool', 'tool', 'user'], 'roles: tool messages right after the assistant tool calls, the user text after them');
      assert.equal(textOf(messages[0]!.content), 'You are terse.');
      assert.deepEqual(messages[1]!.content, [{ type: 'text', text: 'Look at these.' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${pngData}` } }]);
      const assistant = messages[2]!;
      assert.equal(textOf(assistant.content), 'Let me check.');
      assert.deepEqual(
        (assistant.tool_calls as Json[]).map((c) => ({ id: c.id, type: c.type, name: c.function.name, args: JSON.parse(c.function.arguments) })),
        [{ id: 'toolu_a1', type: 'function', name: 'get_weather', args: { city: 'Paris' } }, { id: 'toolu_b2', type: 'function', name: 'get_time', args: { timezone: 'Europe/Paris' } }],
      );
      assert.ok(!JSON.stringify(body).includes(anthropicSignature), 'the Anthropic thinking signature does not leave its family');
      assert.deepEqual(messages.slice(3, 5).map((m) => [m.tool_call_id, textOf(m.content)]), [['toolu_a1', '18C and sunny'], ['toolu_b2', '14:05']]);
      assert.equal(textOf(messages[5]!.content), 'Thanks. Summarise.');
    });
  }

  for (const stream of [true, false]) {
    await t.test(`-> Gemini (${stream ? 'stream' : 'non-stream'}): systemInstruction, functionResponse named after its tool_use`, async () => {
      reset(w);
      const run = stream ? anthropicHelper : anthropicUnary;
      const outcome = await run(w.anthropic, anthropicConversation('to-gemini', { temperature: 0.3, top_p: 0.9 }));
      assert.equal(outcome.text, join(scenarios.text.text));
      const body = checkGeminiRequest(onlyRequest(w.up.gemini), { stream });
      assert.equal(body.generationConfig?.maxOutputTokens, 300);
      assert.ok(!JSON.stringify(body).includes(anthropicSignature), 'the Anthropic thinking signature is not passed off as a Gemini thoughtSignature');
    });
  }

  await t.test('-> OpenAI: an image returned by a tool is carried (OpenAI tool messages hold text only), never dropped', async () => {
    reset(w);
    const body = anthropicBody('to-openai', {
      messages: [
        { role: 'user', content: 'Take a screenshot.' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_s1', name: 'get_weather', input: { city: 'Paris' } }] },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_s1', content: [{ type: 'text', text: 'here' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: pngData } }] }],
        },
      ],
    });
    await anthropicUnary(w.anthropic, body);
    const messages = onlyRequest(w.up.openai).body.messages as Json[];
    const toolAt = messages.findIndex((m) => m.role === 'tool');
    assert.ok(toolAt > 0, 'a tool message');
    assert.equal(messages[toolAt]!.tool_call_id, 'toolu_s1');
    assert.equal(textOf(messages[toolAt]!.content), 'here');
    assert.ok(JSON.stringify(messages.slice(toolAt + 1)).includes(`data:image/png;base64,${pngData}`), `the image follows the tool message: ${JSON.stringify(messages)}`);
  });
  await t.test('-> OpenAI: tool_choice {type: tool} -> a named function; disable_parallel_tool_use -> parallel_tool_calls false', async () => {
    reset(w);
    await anthropicUnary(w.anthropic, anthropicBody('to-openai', { tool_choice: { type: 'tool', name: 'get_time', disable_parallel_tool_use: true } }));
    const body = onlyRequest(w.up.openai).body as Json;
    assert.deepEqual(body.tool_choice, { type: 'function', function: { name: 'get_time' } });
    assert.equal(body.parallel_tool_calls, false);
  });
  await t.test('-> Gemini: a tool_result marked is_error reaches Gemini as an error response', async () => {
    reset(w);
    await anthropicUnary(w.anthropic, anthropicBody('to-gemini', {
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_e1', name: 'get_weather', input: { city: 'Atlantis' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_e1', is_error: true, content: 'unknown city' }] },
      ],
    }));
    const contents = (onlyRequest(w.up.gemini).body as Json).contents as Json[];
    const response = contents.flatMap((c) => c.parts as Json[]).find((p) => p.functionResponse)?.functionResponse;
    assert.equal(response?.name, 'get_weather');
    assert.ok(JSON.stringify(response?.response).includes('unknown city'));
    assert.ok('error' in (response?.response ?? {}), `an error response: ${JSON.stringify(response)}`);
  });

  await t.test('-> Anthropic: passthrough keeps every field and the anthropic-beta header; upstream key and version', async () => {
    reset(w);
    const body = anthropicConversation('to-anthropic', { metadata: { user_id: 'u-42' }, some_future_field: { kept: true } });
    const raw = await rawHttpRequest(`${w.sluice.url}/v1/messages`, {
      body,
      headers: { 'x-api-key': clientKey, 'anthropic-version': '2026-10-21', 'anthropic-beta': 'interleaved-thinking-2025-05-14' },
      auth: false,
      timeoutMs: 10_000,
    });
    await raw.done;
    assert.equal(raw.status, 200, raw.text);
    const request = onlyRequest(w.up.anthropic);
    assert.deepEqual({ ...request.body, model: undefined }, { ...body, model: undefined }, 'the body passes unchanged (signature byte-exact, unknown fields kept)');
    assert.equal(request.body.model, 'upstream-anthropic-model');
    assert.equal(request.headers['x-api-key'], upstreamKeys.anthropic);
    assert.equal(request.headers['anthropic-beta'], 'interleaved-thinking-2025-05-14');
    assert.equal(typeof request.headers['anthropic-version'], 'string');
    assert.equal(JSON.parse(raw.text).model, 'to-anthropic', 'the answer names the public model');
  });
});

// ---------------------------------------------------------------------------------------------
// Fallback across protocols: the body is re-encoded for every hop
// ---------------------------------------------------------------------------------------------

function assertValidFor(kind: UpstreamKind, request: UpstreamRequest, model: string): void {
  const body = request.body as Json;
  if (kind === 'openai') {
    assert.equal(request.path, '/v1/chat/completions');
    assert.equal(body.model, model);
    assert.ok(!('system' in body) && !('contents' in body) && !('stop_sequences' in body), `no foreign fields: ${Object.keys(body).join(',')}`);
    assert.equal(body.messages[0].role, 'system');
    assert.ok((body.tools as Json[]).every((x) => x.type === 'function' && x.function?.parameters), 'OpenAI tools');
    assert.ok(!('max_tokens' in body) || body.max_tokens !== 1234, "the Anthropic hop's default max_tokens does not leak");
  } else if (kind === 'anthropic') {
    assert.equal(request.path, '/v1/messages');
    assert.equal(body.model, model);
    assert.equal(textOf(body.system), 'You are terse.');
    assert.ok(Number.isInteger(body.max_tokens));
    assert.ok((body.messages as Json[]).every((m) => m.role === 'user' || m.role === 'assistant'));
    assert.ok((body.tools as Json[]).every((x) => x.input_schema), 'Anthropic tools');
  } else {
    assert.match(request.path, new RegExp(`^/v1beta/models/${model}:(streamGenerateContent\\?alt=sse|generateContent)$`));
    assert.ok(Array.isArray(body.contents) && body.systemInstruction, 'Gemini contents and systemInstruction');
    assert.ok(!('messages' in body) && !('model' in body));
  }
}

test('fallback across protocols re-encodes the request for the next hop', { timeout: 60_000 }, async (t) => {
  const w = await startWorld(t);
  for (const first of upstreamKinds) {
    for (const second of upstreamKinds) {
      if (first === second) continue;
      for (const ingress of ['openai', 'anthropic'] as const) {
        for (const stream of [true, false]) {
          await t.test(`${ingress} client, ${first} (HTTP 500) -> ${second} (${stream ? 'stream' : 'non-stream'})`, async () => {
            reset(w);
            const model = `fb-${first}-${second}`;
            let text: string;
            if (ingress === 'openai') text = (await (stream ? openAiHelper : openAiUnary)(w.openai, openAiBody(model))).text;
            else text = (await (stream ? anthropicHelper : anthropicUnary)(w.anthropic, anthropicBody(model))).text;
            assert.equal(text, join(scenarios.text.text), 'the second route answered');
            assertValidFor(first, onlyRequest(w.up[first]), 'http-500');
            assertValidFor(second, onlyRequest(w.up[second]), 'text');
            if (ingress === 'anthropic' && second === 'anthropic') {
              const { model: _m, ...sent } = anthropicBody(model);
              const { model: _n, ...got } = w.up.anthropic.requests[0]!.body;
              assert.deepEqual(got, { ...sent, stream }, 'an Anthropic hop of an Anthropic request is the client body');
            }
          });
        }
      }
    }
  }
});

test('an in-band error before the first token moves on to the next route, across protocols', { timeout: 60_000 }, async (t) => {
  const w = await startWorld(t);
  for (const first of upstreamKinds) {
    for (const second of upstreamKinds) {
      if (first === second) continue;
      for (const ingress of ['openai', 'anthropic'] as const) {
        await t.test(`${ingress} client, ${first} (in-band error) -> ${second}`, async () => {
          reset(w);
          const model = `fb-inband-${first}-${second}`;
          const outcome = ingress === 'openai' ? await openAiHelper(w.openai, openAiBody(model)) : await anthropicHelper(w.anthropic, anthropicBody(model));
          assert.equal(outcome.text, join(scenarios.text.text), 'the second route answered, unseen failure before');
          assertValidFor(first, onlyRequest(w.up[first]), 'error-before-content');
          assertValidFor(second, onlyRequest(w.up[second]), 'text');
        });
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Keep-alives while an upstream is slow to its first token
// ---------------------------------------------------------------------------------------------

const fastStreaming = 'streaming:\n  first_byte_deadline: 100ms\n  keepalive_interval: 200ms\n';

for (const kind of upstreamKinds) {
  test(`keep-alives while a ${kind} upstream is slow: event: ping for Anthropic clients, comments for OpenAI clients`, { timeout: 30_000 }, async (t) => {
    const m: Matrix = await startMatrix(t, kind, fastStreaming);
    const expected = join(scenarios['slow-text'].text);

    await t.test('Anthropic client: ping events, then a valid stream', async () => {
      const raw = await rawHttpRequest(`${m.sluice.url}/v1/messages`, {
        body: { ...anthropicBody('slow-text'), stream: true },
        headers: { 'x-api-key': clientKey, 'anthropic-version': '2023-06-01' },
        auth: false,
        timeoutMs: 10_000,
      });
      await raw.done;
      assert.equal(raw.status, 200);
      const report = checkAnthropicStream(raw.text);
      assert.deepEqual(report.violations, [], `wire violations in:\n${raw.text}`);
      assert.ok(report.pings >= 1, `at least one ping while waiting:\n${raw.text}`);
      const firstPing = raw.text.indexOf('event: ping\n');
      const firstDelta = raw.text.indexOf('event: content_block_delta');
      assert.ok(firstPing >= 0 && firstPing < firstDelta, 'a ping before the first token');
      assert.equal(report.blocks.map((b) => b.text).join(''), expected);
      // The first bytes went out at the deadline, long before the first token.
      const firstPiece = raw.pieces[0]!;
      assert.ok(firstPiece.at - raw.startedAt < 700, `the head and a ping were sent early (after ${firstPiece.at - raw.startedAt} ms)`);
    });
    await t.test('Anthropic client: finalMessage() is not disturbed by pings', async () => {
      assert.equal((await anthropicHelper(m.anthropic, anthropicBody('slow-text'))).text, expected);
    });
    await t.test('OpenAI client: keep-alives are SSE comments, never data or event: ping', async () => {
      const raw = await rawHttpRequest(`${m.sluice.baseURL}/chat/completions`, {
        body: { ...openAiBody('slow-text'), stream: true, stream_options: { include_usage: true } },
        timeoutMs: 10_000,
      });
      await raw.done;
      assert.equal(raw.status, 200);
      assert.ok(!/^event:/m.test(raw.text), `no event: lines on an OpenAI stream:\n${raw.text}`);
      assert.ok(!raw.text.includes('"ping"'), `no ping data on an OpenAI stream:\n${raw.text}`);
      assert.ok(/^:/m.test(raw.text), `an SSE comment kept the connection alive:\n${raw.text}`);
      const report = checkOpenAiStream(raw.text, { includeUsage: true });
      assert.deepEqual(report.violations, [], `wire violations in:\n${raw.text}`);
      assert.equal(report.text.get(0), expected);
    });
    await t.test('OpenAI client: finalChatCompletion() is not disturbed', async () => {
      assert.equal((await openAiHelper(m.openai, openAiBody('slow-text'))).text, expected);
    });
  });
}
