/**
 * A route whose protocol cannot express the request (here: Gemini takes at most 5 stop sequences,
 * Anthropic more) is skipped without calling it; the next route serves the request. When no route
 * can express it, the client gets 400 in its own protocol, saying why, and no upstream is called.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { providerYaml, startKindUpstream } from './support/matrix.js';
import { answerText, startRoutingUpstream } from './support/routing-upstream.js';
import { clientKey, eventually, startSluice, type TestSluice } from './support/sluice.js';

const stopSequences = ['one', 'two', 'three', 'four', 'five', 'six'];

async function setup(t: TestContext, withAnthropic: boolean) {
  const gemini = await startKindUpstream(t, 'gemini');
  const anthropic = await startRoutingUpstream(t, 'anthropic', 'b');
  const routes = [`      - g/gemini-test\n`, ...(withAnthropic ? ['      - a/claude-test\n'] : [])].join('');
  const config = `host: 127.0.0.1\nport: 0\nproviders:\n${providerYaml('g', 'gemini', gemini.baseUrl)}  a:\n    kind: anthropic\n    base_url: ${anthropic.baseUrl}\n    api_key: sk-up-a\n` +
    `models:\n  m:\n    routes:\n${routes}keys:\n  - name: test\n    key: ${clientKey}\n`;
  const sluice: TestSluice = await startSluice(config);
  t.after(() => sluice.close(50));
  const client = new Anthropic({ baseURL: sluice.url, apiKey: clientKey, maxRetries: 0, timeout: 10_000 });
  return { gemini, anthropic, sluice, client };
}

for (const stream of [true, false]) {
  test(`Anthropic SDK, ${stream ? 'stream' : 'non-stream'}: 6 stop sequences skip the Gemini route (never called) and the Anthropic route answers`, async (t) => {
    const { gemini, anthropic, sluice, client } = await setup(t, true);
    const request = { model: 'm', max_tokens: 50, stop_sequences: stopSequences, messages: [{ role: 'user' as const, content: 'Hi' }] };
    let text = '';
    if (stream) {
      for await (const event of await client.messages.create({ ...request, stream: true })) {
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      }
    } else {
      const message = await client.messages.create(request);
      text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    }
    assert.equal(text, answerText('b'));
    assert.equal(gemini.upstream.requests.length, 0, 'the route that cannot take the request was not called');
    assert.equal(anthropic.calls, 1);
    assert.deepEqual(anthropic.upstream.requests[0]?.body.stop_sequences, stopSequences);
    await eventually(() => sluice.records.length === 1, 3000, 'the request record');
    assert.equal(sluice.records[0]?.outcome, 'ok');
    assert.equal(sluice.records[0]?.route, 'a/claude-test');
    assert.equal(sluice.records[0]?.attempts, 1, 'attempts count upstream calls: the skipped route made none');
  });
}

test('Anthropic SDK: when the only route cannot express the request, 400 invalid_request_error naming the limit; nothing called', async (t) => {
  const { gemini, sluice, client } = await setup(t, false);
  const error = await client.messages
    .create({ model: 'm', max_tokens: 50, stop_sequences: stopSequences, messages: [{ role: 'user', content: 'Hi' }] })
    .then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof Anthropic.BadRequestError, `expected a 400, got ${String(error)}`);
  const body = error.error as { error?: { type?: string; message?: string } };
  assert.equal(body.error?.type, 'invalid_request_error');
  assert.match(body.error?.message ?? '', /at most 5 stop sequences/);
  assert.equal(gemini.upstream.requests.length, 0);
  await eventually(() => sluice.records.length === 1, 3000, 'the request record');
  assert.equal(sluice.records[0]?.attempts, 0);
});
