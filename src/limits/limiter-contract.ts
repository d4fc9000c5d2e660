/**
 * The contract every Limiter is held to (memory, Redis): one suite, run against each by
 * limiter-contract.test.ts. Each test uses keys of its own, so a shared Redis needs no cleanup
 * between tests.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Limiter, TakeResult } from './limiter.js';

function granted(result: TakeResult): Extract<TakeResult, { ok: true }> {
  assert.ok(result.ok, `expected the take to pass: ${JSON.stringify(result)}`);
  return result;
}

function refused(result: TakeResult): Extract<TakeResult, { ok: false }> {
  assert.ok(!result.ok, 'expected the take to be refused');
  return result;
}

export function runLimiterContract(name: string, open: (t: TestContext) => Promise<Limiter>): void {
  describe(`limiter contract: ${name}`, { timeout: 30_000 }, () => {
    const key = (): string => `k-${randomUUID()}`;

    test('a per-minute bucket passes its limit as a burst, then refuses with the exact wait', async (t) => {
      const limiter = await open(t);
      const rpm = key();
      for (let i = 0; i < 3; i++) granted(await limiter.take({ buckets: [{ key: rpm, perMinute: 3, amount: 1 }] }));
      const no = refused(await limiter.take({ buckets: [{ key: rpm, perMinute: 3, amount: 1 }] }));
      assert.deepEqual(no.blockedBy, { kind: 'bucket', index: 0 });
      // One request refills in 60 s / 3 = 20 s; a little of it has passed since the burst.
      assert.ok(no.retryAfterMs > 15_000 && no.retryAfterMs <= 20_000, String(no.retryAfterMs));
      assert.equal(no.buckets[0]?.remaining, 0);
      assert.equal(no.buckets[0]?.perMinute, 3);
      assert.ok((no.buckets[0]?.resetMs ?? 0) > 55_000 && (no.buckets[0]?.resetMs ?? 0) <= 60_000, String(no.buckets[0]?.resetMs));
    });

    test('after a take the views say what is left and when the bucket is full again', async (t) => {
      const limiter = await open(t);
      const ok = granted(await limiter.take({ buckets: [{ key: key(), perMinute: 1000, amount: 250 }] }));
      assert.equal(ok.buckets[0]?.remaining, 750);
      assert.ok((ok.buckets[0]?.resetMs ?? 0) > 14_000 && (ok.buckets[0]?.resetMs ?? 0) <= 15_000);
    });

    test('all or nothing: a refused take charges none of its buckets', async (t) => {
      const limiter = await open(t);
      const [requests, tokens] = [key(), key()];
      const no = refused(await limiter.take({ buckets: [{ key: requests, perMinute: 10, amount: 1 }, { key: tokens, perMinute: 100, amount: 101 }] }));
      assert.deepEqual(no.blockedBy, { kind: 'bucket', index: 1 });
      const ok = granted(await limiter.take({ buckets: [{ key: requests, perMinute: 10, amount: 1 }, { key: tokens, perMinute: 100, amount: 100 }] }));
      assert.deepEqual(ok.buckets.map((b) => b.remaining), [9, 0]);
    });

    test('20 concurrent takes of 100 tokens against 1000 per minute: exactly 10 pass', async (t) => {
      const limiter = await open(t);
      const tpm = key();
      const results = await Promise.all(Array.from({ length: 20 }, () => limiter.take({ buckets: [{ key: tpm, perMinute: 1000, amount: 100 }] })));
      assert.equal(results.filter((r) => r.ok).length, 10);
    });

    test('reconcile: unused tokens are refunded, extra ones charged; finishing twice changes nothing', async (t) => {
      const limiter = await open(t);
      const tpm = key();
      const first = granted(await limiter.take({ buckets: [{ key: tpm, perMinute: 1000, amount: 500 }] }));
      first.grant.finish([100]);
      first.grant.finish([0]);
      await settleDelay();
      const second = granted(await limiter.take({ buckets: [{ key: tpm, perMinute: 1000, amount: 100 }] }));
      // 1000 - 100 used - 100 now; refill since is at most a few tokens.
      assert.ok(second.buckets[0]!.remaining >= 800 && second.buckets[0]!.remaining <= 805, String(second.buckets[0]?.remaining));
      second.grant.finish([400]);
      await settleDelay();
      const third = refused(await limiter.take({ buckets: [{ key: tpm, perMinute: 1000, amount: 600 }] }));
      assert.ok(third.buckets[0]!.remaining >= 500 && third.buckets[0]!.remaining <= 505, String(third.buckets[0]?.remaining));
    });

    test('slots: at most max in flight; finishing gives one back, once', async (t) => {
      const limiter = await open(t);
      const slot = { key: key(), max: 2 };
      const a = granted(await limiter.take({ buckets: [], slot }));
      granted(await limiter.take({ buckets: [], slot }));
      const no = refused(await limiter.take({ buckets: [], slot }));
      assert.deepEqual(no.blockedBy, { kind: 'slot', max: 2 });
      assert.ok(no.retryAfterMs >= 1 && no.retryAfterMs <= 60_000);
      a.grant.finish([]);
      a.grant.finish([]);
      await settleDelay();
      granted(await limiter.take({ buckets: [], slot }));
      refused(await limiter.take({ buckets: [], slot }));
    });

    test('a slot refused by a bucket is not taken; a bucket refused by its slot is not charged', async (t) => {
      const limiter = await open(t);
      const [rpm, slotKey] = [key(), key()];
      refused(await limiter.take({ buckets: [{ key: rpm, perMinute: 1, amount: 2 }], slot: { key: slotKey, max: 1 } }));
      const held = granted(await limiter.take({ buckets: [{ key: rpm, perMinute: 5, amount: 1 }], slot: { key: slotKey, max: 1 } }));
      const no = refused(await limiter.take({ buckets: [{ key: rpm, perMinute: 5, amount: 1 }], slot: { key: slotKey, max: 1 } }));
      assert.equal(no.blockedBy.kind, 'slot');
      held.grant.finish([1]);
      await settleDelay();
      const ok = granted(await limiter.take({ buckets: [{ key: rpm, perMinute: 5, amount: 1 }], slot: { key: slotKey, max: 1 } }));
      assert.equal(ok.buckets[0]?.remaining, 3, 'the refused take charged nothing');
    });

    test('buckets refill continuously', async (t) => {
      const limiter = await open(t);
      const rps = key();
      granted(await limiter.take({ buckets: [{ key: rps, perMinute: 600, amount: 600 }] }));
      refused(await limiter.take({ buckets: [{ key: rps, perMinute: 600, amount: 1 }] }));
      // 600 per minute is one per 100 ms.
      await new Promise((resolve) => setTimeout(resolve, 350));
      granted(await limiter.take({ buckets: [{ key: rps, perMinute: 600, amount: 2 }] }));
    });
  });
}

/** Redis reconciles without waiting for the answer: give the command its round trip. */
function settleDelay(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 30));
}
