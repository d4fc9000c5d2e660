/**
 * Issue 5, part 3: faults on the client's side, from both ingress protocols with the official
 * SDKs, against OpenAI and Anthropic upstreams: a client that reads slowly, and a client that
 * disconnects before, during and after the first token.
 *
 * - A slow reader holds the upstream back (Sluice pauses reading instead of buffering) and still
 *   gets the whole answer.
 * - A client that leaves makes Sluice close the upstream connection within 1 s (after the commit,
 *   Sluice gives the upstream a 500 ms grace for its final usage). The ledger row says
 *   client_aborted (499) and follows the README's billing policy: before the first token nothing
 *   is billed, even when the upstream had reported the prompt (Sluice does not pass on what the
 *   provider may charge for it); after it, what was generated, prompt included, with the
 *   upstream's final usage when it came within the grace, else estimated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { runSdk, ingresses, type SdkRun } from './support/fault-clients.js';
import { assertSettlement, assertSuccess, type ExpectedUsage } from './support/fault-expect.js';
import { assertClosed, assertReleased, faultHarness, model, route } from './support/fault-harness.js';
import { defaultAnswer, type Answer } from './support/fault-frames.js';
import type { Dialect } from './support/fault-upstream.js';
import { sleep } from './support/scripted-upstream.js';

const dialects: Dialect[] = ['openai', 'anthropic'];
const reportedPrompt = { input: defaultAnswer.usage.input, cacheRead: 0, cacheWrite: 0, output: 0 };

function assertLeft(run: SdkRun): void {
  assert.equal(run.left, true, 'the client left');
  assert.ok(run.error instanceof OpenAI.APIUserAbortError || run.error instanceof Anthropic.APIUserAbortError, `the SDK reports the abort: ${String(run.error)}`);
}

/** Nothing generated: the prompt counts only as the upstream reported it (Anthropic's message_start), and costs nothing. */
const nothingGenerated = (dialect: Dialect, stream = true): ExpectedUsage =>
  dialect === 'anthropic' && stream ? { kind: 'reported', tokens: reportedPrompt } : { kind: 'none' };

// ---------------------------------------------------------------------------------------------
// A slow reader
// ---------------------------------------------------------------------------------------------

const pieceBytes = 16 * 1024;
const bigAnswer: Answer = {
  pieces: Array.from({ length: 2048 }, (_, i) => String.fromCharCode(97 + (i % 26)).repeat(pieceBytes)),
  usage: { input: 40, output: 2048 },
};
const bigText = bigAnswer.pieces.join('');

for (const dialect of dialects) {
  for (const ingress of ingresses) {
    test(`slow reader (${ingress} client, ${dialect} upstream, ${bigText.length / 2 ** 20} MiB): the upstream is held back while the client pauses, and the answer arrives whole`, async (t) => {
      const h = await faultHarness(t, [{ ...route(dialect, { kind: 'answer' }), options: { answer: bigAnswer } }]);
      const upstream = (): { written: number; finished: boolean } => ({ written: h.up(0).calls[0]?.bytesWritten ?? 0, finished: h.up(0).calls[0]?.finishedAt !== undefined });
      let deltas = 0;
      let paused: { early: number; late: number; finished: boolean } | undefined;
      const run = await runSdk(ingress, h.sluice, model, {
        mode: 'iterate',
        recordRaw: false,
        maxTokens: 4096,
        onText: async () => {
          deltas++;
          if (deltas === 8) {
            // Reads a little, then stops reading for a while: Sluice must stop reading the upstream.
            await sleep(1000);
            const early = upstream().written;
            await sleep(500);
            paused = { early, late: upstream().written, finished: upstream().finished };
          } else if (deltas % 256 === 0) await sleep(20);
        },
      });
      assertSuccess(run, ingress, bigText);
      assert.ok(paused, 'the client paused');
      const total = h.up(0).calls[0]!.bytesWritten;
      assert.equal(paused.finished, false, 'the upstream could not write the whole answer while the client was not reading');
      assert.equal(paused.late, paused.early, `the upstream was held back: it wrote ${paused.late - paused.early} bytes during the last 500 ms of the pause`);
      assert.ok(paused.late < total / 2, `buffered while paused: ${(paused.late / 2 ** 20).toFixed(1)} of ${(total / 2 ** 20).toFixed(1)} MiB`);
      const { row, record } = await h.settled(run.requestId);
      assertSettlement(row, record, { outcome: 'ok', status: 200, errorCode: null, route: 0, attempts: 1, usage: { kind: 'reported', tokens: { input: 40, cacheRead: 0, cacheWrite: 0, output: 2048 } } });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// A client that disconnects
// ---------------------------------------------------------------------------------------------

for (const dialect of dialects) {
  for (const ingress of ingresses) {
    const label = `(${ingress} client, ${dialect} upstream)`;

    test(`disconnect before the first token, response head not sent yet ${label}: upstream closed, client_aborted, costs nothing`, async (t) => {
      const h = await faultHarness(t, [route(dialect, { kind: 'answer', firstTokenDelayMs: 10_000 })]);
      const run = await runSdk(ingress, h.sluice, model, { leave: { afterMs: 300 } });
      assertLeft(run);
      assert.equal(run.status, 0, 'no response head had arrived');
      await assertClosed(h.up(0), 0, run.endedAt, 'the abandoned upstream');
      // The row is written once the relay has noticed; it has no id the client saw, so it is the only row.
      await assertOnlyRow(h, { outcome: 'client_aborted', status: 499, errorCode: null, route: 0, attempts: 1, usage: nothingGenerated(dialect) });
    });

    test(`disconnect before the first token, after the head and keep-alives ${label}: upstream closed, client_aborted, costs nothing`, async (t) => {
      const h = await faultHarness(t, [route(dialect, { kind: 'answer', firstTokenDelayMs: 10_000 })], 'streaming:\n  first_byte_deadline: 100ms\n');
      const run = await runSdk(ingress, h.sluice, model, { leave: { afterMs: 400 } });
      assertLeft(run);
      assert.equal(run.status, 200, 'the head had gone out');
      assert.equal(run.text, '');
      await assertClosed(h.up(0), 0, run.endedAt, 'the abandoned upstream');
      const { row, record } = await h.settled(run.requestId);
      assertSettlement(row, record, { outcome: 'client_aborted', status: 499, errorCode: null, route: 0, attempts: 1, usage: nothingGenerated(dialect) });
      assert.equal(row.ttftMs, null);
    });

    test(`disconnect while a non-stream answer is pending ${label}: upstream closed, client_aborted, costs nothing`, async (t) => {
      const h = await faultHarness(t, [route(dialect, { kind: 'answer', firstTokenDelayMs: 10_000 })]);
      const run = await runSdk(ingress, h.sluice, model, { mode: 'unary', leave: { afterMs: 300 } });
      assertLeft(run);
      await assertClosed(h.up(0), 0, run.endedAt, 'the abandoned upstream');
      await assertOnlyRow(h, { outcome: 'client_aborted', status: 499, errorCode: null, route: 0, attempts: 1, usage: nothingGenerated(dialect, false) });
    });

    test(`disconnect mid-stream, the upstream silent after two tokens ${label}: upstream closed within 1 s, client_aborted, partial usage estimated and billed`, async (t) => {
      const h = await faultHarness(t, [route(dialect, { kind: 'stall', after: 2 })]);
      const text = defaultAnswer.pieces.slice(0, 2).join('');
      const run = await runSdk(ingress, h.sluice, model, { leave: { whenText: text } });
      assertLeft(run);
      assert.equal(run.text, text);
      await assertClosed(h.up(0), 0, run.endedAt, 'the abandoned upstream');
      const { row, record } = await h.settled(run.requestId);
      assertSettlement(row, record, {
        outcome: 'client_aborted', status: 499, errorCode: null, route: 0, attempts: 1,
        usage: { kind: 'estimated', text, input: dialect === 'anthropic' ? defaultAnswer.usage.input : undefined },
      });
    });

    test(`disconnect after the last token, the final usage 3 s later (past the grace) ${label}: upstream closed within 1 s, usage estimated`, async (t) => {
      const h = await faultHarness(t, [route(dialect, { kind: 'answer', finishDelayMs: 3000 })]);
      const text = defaultAnswer.pieces.join('');
      const run = await runSdk(ingress, h.sluice, model, { leave: { whenText: text } });
      assertLeft(run);
      await assertClosed(h.up(0), 0, run.endedAt, 'the abandoned upstream');
      const { row, record } = await h.settled(run.requestId);
      assertSettlement(row, record, {
        outcome: 'client_aborted', status: 499, errorCode: null, route: 0, attempts: 1,
        usage: { kind: 'estimated', text, input: dialect === 'anthropic' ? defaultAnswer.usage.input : undefined },
      });
    });

    test(`disconnect after the last token, the final usage 200 ms later (within the grace) ${label}: the upstream's reported usage is billed`, async (t) => {
      const h = await faultHarness(t, [route(dialect, { kind: 'answer', finishDelayMs: 200 })]);
      const text = defaultAnswer.pieces.join('');
      const run = await runSdk(ingress, h.sluice, model, { leave: { whenText: text } });
      assertLeft(run);
      await assertReleased(h.up(0), 0, run.endedAt, 'the upstream after its final usage');
      const { row, record } = await h.settled(run.requestId);
      assertSettlement(row, record, {
        outcome: 'client_aborted', status: 499, errorCode: null, route: 0, attempts: 1,
        usage: { kind: 'reported', tokens: { input: 40, cacheRead: 0, cacheWrite: 0, output: defaultAnswer.usage.output } },
      });
    });
  }
}

/** For a request whose client never saw a request id: it must be the ledger's only row. */
async function assertOnlyRow(h: Awaited<ReturnType<typeof faultHarness>>, expected: Parameters<typeof assertSettlement>[2]): Promise<void> {
  const deadline = Date.now() + 5000;
  while (h.sluice.records.length === 0 && Date.now() < deadline) await sleep(20);
  assert.equal(h.sluice.records.length, 1, 'one request record');
  const { row, record } = await h.settled(h.sluice.records[0]!.requestId);
  assertSettlement(row, record, expected);
}
