/**
 * Issue 5, part 3: upstream faults after the commit point (the first token), driven from both
 * ingress protocols with the official SDKs, against OpenAI and Anthropic upstreams, with a healthy
 * second route configured that must never be called (no silent retry once content went out).
 *
 * For each fault the client gets the content sent before it, then a protocol-correct in-stream
 * error (OpenAI `data: {"error": ...}`, Anthropic `event: error`) and never [DONE] /
 * message_stop, checked on the raw bytes the SDK read as well as by the SDK itself, which must
 * throw rather than return a truncated answer. The upstream, which holds its connection open after
 * the fault, is disconnected by Sluice within 1 s. The ledger row says upstream_error and bills
 * what was generated, prompt included: the relayed output counted with a tokenizer, the prompt as
 * the upstream reported it (Anthropic's message_start) or estimated (README, billing policy).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSdk, ingresses, type Ingress } from './support/fault-clients.js';
import { assertInStreamFailure, assertSettlement } from './support/fault-expect.js';
import { assertClosed, assertReleased, faultHarness, model, route } from './support/fault-harness.js';
import { defaultAnswer } from './support/fault-frames.js';
import type { Dialect, Fault } from './support/fault-upstream.js';

const dialects: Dialect[] = ['openai', 'anthropic'];
const idleMs = 300;
const timeouts = `{first_token: 2s, idle: ${idleMs}ms}`;
const maxEvent = 'streaming:\n  max_event_size: 64KiB\n';
/** The fault strikes after this many content events. */
const after = 2;
const textBefore = defaultAnswer.pieces.slice(0, after).join('');

interface AfterCommitCase {
  name: string;
  fault: Fault;
  errorCode: string;
  /** The ledger row's status: that of the error the client got in-stream (as it would be before the commit). */
  status: number;
  /** The error type in the in-stream error, per client protocol and upstream dialect. */
  errorType: (ingress: Ingress, dialect: Dialect) => string;
  extraYaml?: string;
}

const sluiceType = (ingress: Ingress): string => (ingress === 'openai' ? 'upstream_error' : 'api_error');

const cases: AfterCommitCase[] = [
  {
    // OpenAI: data: {"error": {"type": "server_error"}}. Anthropic: event: error overloaded_error (529 after HTTP 200).
    name: 'in-band error',
    fault: { kind: 'in-band-error', after },
    errorCode: 'upstream_stream_error',
    status: 502,
    // The upstream's type is kept where the client's protocol knows it.
    errorType: (ingress, dialect) => (dialect === 'anthropic' ? 'overloaded_error' : ingress === 'openai' ? 'server_error' : 'api_error'),
  },
  { name: 'connection cut', fault: { kind: 'cut', after }, errorCode: 'upstream_unreachable', status: 502, errorType: sluiceType },
  { name: 'stall (timeouts.idle)', fault: { kind: 'stall', after }, errorCode: 'upstream_timeout', status: 504, errorType: () => 'timeout_error' },
  { name: 'malformed JSON line', fault: { kind: 'malformed', after }, errorCode: 'upstream_protocol_error', status: 502, errorType: sluiceType },
  {
    // The upstream goes on as if nothing happened and ends its stream properly: the answer is
    // still broken (an event is missing) and must not end like a complete one.
    name: 'malformed JSON line, then the rest of the stream and its terminator',
    fault: { kind: 'malformed', after, thenContinue: true },
    errorCode: 'upstream_protocol_error',
    status: 502,
    errorType: sluiceType,
  },
  {
    name: 'event over max_event_size',
    fault: { kind: 'oversized', after, bytes: 100 * 1024 },
    errorCode: 'upstream_protocol_error',
    status: 502,
    errorType: sluiceType,
    extraYaml: maxEvent,
  },
];

for (const c of cases) {
  for (const dialect of dialects) {
    for (const ingress of ingresses) {
      test(`after commit: ${c.name} (${ingress} client, ${dialect} upstream): in-stream error, no terminator, no fallback, upstream closed, partial usage billed`, async (t) => {
        const h = await faultHarness(t, [route(dialect, c.fault, timeouts), route(dialect, { kind: 'answer' })], c.extraYaml);
        const run = await runSdk(ingress, h.sluice, model);
        const { type } = assertInStreamFailure(run, ingress, textBefore);
        assert.equal(type, c.errorType(ingress, dialect), 'the in-stream error type');
        // The client hears of the fault at once (a stall: once timeouts.idle has passed), never left hanging.
        const faultAt = h.up(0).calls[0]?.faultAt ?? 0;
        const heardWithin = (c.fault.kind === 'stall' ? idleMs * 1.25 : 0) + 1000;
        assert.ok(run.endedAt - faultAt <= heardWithin, `the client heard of the fault ${run.endedAt - faultAt} ms after it`);
        // An upstream that carries on may finish its response first; any other holds it open, so Sluice must close it.
        const letGo = c.fault.kind === 'malformed' && c.fault.thenContinue ? assertReleased : assertClosed;
        await letGo(h.up(0), 0, run.endedAt, 'the broken upstream');
        assert.equal(h.up(0).calls.length, 1, 'never retried after the first token');
        assert.equal(h.up(1).calls.length, 0, 'the second route is never called after the first token');

        const { row, record } = await h.settled(run.requestId);
        assertSettlement(row, record, {
          outcome: 'upstream_error', status: c.status, errorCode: c.errorCode, route: 0, attempts: 1,
          usage: { kind: 'estimated', text: textBefore, input: dialect === 'anthropic' ? defaultAnswer.usage.input : undefined },
        });
        assert.ok(row.ttftMs !== null && row.ttftMs <= row.durationMs, 'the first token went out');
      });
    }
  }
}

// A fault after the last content event, before the finish and the final usage: the client has
// every token, but the answer is still not complete and must not look it.
for (const dialect of dialects) {
  for (const ingress of ingresses) {
    test(`after commit: connection cut after the last token, before the finish (${ingress} client, ${dialect} upstream): still an in-stream error, never a terminator`, async (t) => {
      const all = defaultAnswer.pieces.length;
      const h = await faultHarness(t, [route(dialect, { kind: 'cut', after: all }, timeouts)]);
      const run = await runSdk(ingress, h.sluice, model);
      const text = defaultAnswer.pieces.join('');
      assertInStreamFailure(run, ingress, text);
      await assertClosed(h.up(0), 0, run.endedAt, 'the broken upstream');
      const { row, record } = await h.settled(run.requestId);
      assertSettlement(row, record, {
        outcome: 'upstream_error', status: 502, errorCode: 'upstream_unreachable', route: 0, attempts: 1,
        usage: { kind: 'estimated', text, input: dialect === 'anthropic' ? defaultAnswer.usage.input : undefined },
      });
    });
  }
}
