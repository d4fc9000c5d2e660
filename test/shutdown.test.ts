/**
 * Stopping Sluice (SIGTERM/SIGINT run the same close()): new connections are refused, streams
 * that finish within `shutdown_grace` finish normally, and a stream still running after it ends
 * with an error in the client's protocol (never silently, which the SDK would take for success),
 * its upstream call cancelled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { chunk } from './support/chunks.js';
import { rawHttpRequest } from './support/raw-http.js';
import { startScriptedUpstream, sseHeaders, sleep, writeFrames } from './support/scripted-upstream.js';
import { clientKey, configFor, startSluice } from './support/sluice.js';

test('shutdown: a stream finishing within the grace period completes; one outliving it gets an error frame', async (t) => {
  const upstream = await startScriptedUpstream(async (request, res) => {
    res.writeHead(200, sseHeaders);
    await writeFrames(res, [chunk({ role: 'assistant', content: 'first' })]);
    const quick = JSON.stringify(request.body.messages).includes('quick');
    if (quick) {
      await sleep(150);
      await writeFrames(res, [chunk({}, 'stop'), '[DONE]']);
      res.end();
    }
    // otherwise: silent until Sluice gives up on it
  });
  const sluice = await startSluice(configFor([upstream.baseUrl], 'shutdown_grace: 400ms\n'));
  t.after(async () => {
    await sluice.close(0);
    await upstream.close();
  });
  const body = (text: string) => ({ model: 'test-model', stream: true, messages: [{ role: 'user', content: text }] });
  const slow = await rawHttpRequest(`${sluice.baseURL}/chat/completions`, { body: body('slow'), timeoutMs: 5000 });
  const quick = await rawHttpRequest(`${sluice.baseURL}/chat/completions`, { body: body('quick'), timeoutMs: 5000 });
  await slow.waitFor((text) => text.includes('first'));
  await quick.waitFor((text) => text.includes('first'));

  const started = Date.now();
  const closing = sluice.close();
  await quick.done;
  assert.match(quick.text, /data: \[DONE\]\n\n$/, 'the quick stream finished normally during the grace period');

  await slow.done;
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 350, `the slow stream was given the grace period (${elapsed} ms)`);
  assert.doesNotMatch(slow.text, /\[DONE\]/);
  const lastFrame = slow.text.trim().split('\n\n').at(-1) ?? '';
  const error = JSON.parse(lastFrame.replace(/^data: /, '')) as { error: { code: string; message: string } };
  assert.equal(error.error.code, 'shutting_down');

  await Promise.race([upstream.requests[0]!.closed, sleep(1000).then(() => assert.fail('the upstream call was not cancelled'))]);
  await Promise.race([closing, sleep(3000).then(() => assert.fail('close() did not finish'))]);
  await assert.rejects(fetch(`${sluice.url}/health`), 'no new connections after close');
});

test('shutdown: the SDK sees the cut-short stream as an error, not a complete answer', async (t) => {
  const upstream = await startScriptedUpstream(async (_request, res) => {
    res.writeHead(200, sseHeaders);
    await writeFrames(res, [chunk({ role: 'assistant', content: 'partial' })]);
  });
  const sluice = await startSluice(configFor([upstream.baseUrl], 'shutdown_grace: 200ms\n'));
  t.after(async () => {
    await sluice.close(0);
    await upstream.close();
  });
  const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: clientKey, maxRetries: 0, timeout: 5000 });
  const stream = await client.chat.completions.create({ model: 'test-model', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  let text = '';
  const consumed = (async () => {
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      if (text === 'partial') void sluice.close();
    }
  })();
  await assert.rejects(consumed, (e: unknown) => e instanceof OpenAI.APIError && /shutting down/.test(e.message));
  assert.equal(text, 'partial');
});
