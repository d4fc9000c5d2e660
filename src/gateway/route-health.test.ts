import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cooldown, CooldownBoard } from './cooldown-board.js';
import { RouteHealth, type HealthSettings } from './route-health.js';
import { FakeClock } from './test-support/routing-fakes.js';

const settings: HealthSettings = { failureThreshold: 3, cooldownMs: 30_000, maxCooldownMs: 100_000 };

/** A board that records what is published and lets the test play another instance. */
class RecordingBoard implements CooldownBoard {
  readonly published: Cooldown[] = [];
  private listener: ((cooldown: Cooldown) => void) | undefined;
  publish(cooldown: Cooldown): void {
    this.published.push(cooldown);
  }
  subscribe(listener: (cooldown: Cooldown) => void): void {
    this.listener = listener;
  }
  hear(cooldown: Cooldown): void {
    this.listener?.(cooldown);
  }
  async close(): Promise<void> {}
}

function setup(overrides: Partial<HealthSettings> = {}) {
  const clock = new FakeClock();
  const board = new RecordingBoard();
  const health = new RouteHealth({ ...settings, ...overrides }, { board, now: () => clock.now() });
  return { clock, board, health };
}

function fail(health: RouteHealth, route: string, times: number): void {
  for (let i = 0; i < times; i++) {
    const admitted = health.admit(route);
    assert.ok(admitted.ok, `attempt ${i + 1} admitted`);
    health.settle(route, admitted.probe, 'failure', { error: 'HTTP 500' });
  }
}

test('opens after failure_threshold consecutive failures, and skips the route for the cooldown', () => {
  const { clock, board, health } = setup();
  fail(health, 'a/m', 2);
  assert.deepEqual(health.admit('a/m'), { ok: true, probe: false }, 'two failures: still closed');
  health.settle('a/m', false, 'failure');
  assert.deepEqual(health.admit('a/m'), { ok: false, until: clock.now() + 30_000, reason: 'failing' });
  assert.equal(board.published.length, 1);
  assert.equal(board.published[0]?.route, 'a/m');
  assert.equal(board.published[0]?.until, clock.now() + 30_000);
  assert.match(board.published[0]?.reason ?? '', /^3 failures in a row/);
  assert.deepEqual(health.admit('b/m'), { ok: true, probe: false }, 'other routes are unaffected');
});

test('a success in between resets the count: only consecutive failures open the breaker', () => {
  const { health } = setup();
  fail(health, 'a/m', 2);
  health.settle('a/m', false, 'ok');
  fail(health, 'a/m', 2);
  assert.equal(health.admit('a/m').ok, true);
});

test('attempts that end without a verdict (none: the client left) do not count as failures', () => {
  const { health } = setup();
  fail(health, 'a/m', 2);
  health.settle('a/m', false, 'none');
  assert.equal(health.admit('a/m').ok, true);
});

test('half-open: after the cooldown one probe goes through; others wait while it runs; success closes', () => {
  const { clock, health } = setup();
  fail(health, 'a/m', 3);
  clock.advance(30_000);
  assert.deepEqual(health.admit('a/m'), { ok: true, probe: true });
  const second = health.admit('a/m');
  assert.equal(second.ok, false);
  assert.equal(!second.ok && second.reason, 'probing');
  health.settle('a/m', true, 'ok');
  assert.deepEqual(health.admit('a/m'), { ok: true, probe: false });
  assert.equal(health.describe('a/m'), undefined);
});

test('a failed probe reopens with twice the cooldown, up to max_cooldown; success resets it', () => {
  const { clock, board, health } = setup();
  fail(health, 'a/m', 3);
  const cooldowns: number[] = [];
  for (let i = 0; i < 3; i++) {
    clock.advance(200_000);
    const probe = health.admit('a/m');
    assert.deepEqual(probe, { ok: true, probe: true });
    health.settle('a/m', true, 'failure');
    const blocked = health.admit('a/m');
    assert.ok(!blocked.ok);
    cooldowns.push(blocked.until - clock.now());
  }
  assert.deepEqual(cooldowns, [60_000, 100_000, 100_000]);
  assert.equal(board.published.length, 4);
  clock.advance(200_000);
  health.settle('a/m', health.admit('a/m').ok, 'ok');
  fail(health, 'a/m', 3);
  const reopened = health.admit('a/m');
  assert.ok(!reopened.ok);
  assert.equal(reopened.until - clock.now(), 30_000, 'back to the first cooldown');
});

test('a probe whose client left (none) gives the probe to the next request', () => {
  const { clock, health } = setup();
  fail(health, 'a/m', 3);
  clock.advance(30_000);
  assert.deepEqual(health.admit('a/m'), { ok: true, probe: true });
  health.settle('a/m', true, 'none');
  assert.deepEqual(health.admit('a/m'), { ok: true, probe: true });
});

test('a 429 opens the breaker at once, for the retry-after when given (capped by max_cooldown), else the cooldown', () => {
  const { clock, board, health } = setup();
  health.settle('a/m', false, 'rate_limited', { retryAfterMs: 7000 });
  assert.deepEqual(health.admit('a/m'), { ok: false, until: clock.now() + 7000, reason: 'rate_limited' });
  assert.match(board.published[0]?.reason ?? '', /^429/);
  health.settle('b/m', false, 'rate_limited');
  assert.deepEqual(health.admit('b/m'), { ok: false, until: clock.now() + 30_000, reason: 'rate_limited' });
  health.settle('c/m', false, 'rate_limited', { retryAfterMs: 3_600_000 });
  assert.deepEqual(health.admit('c/m'), { ok: false, until: clock.now() + 100_000, reason: 'rate_limited' });
});

test("a 429 cooldown is closed only by a probe's success, not by a request admitted before it", () => {
  const { clock, health } = setup();
  const before = health.admit('a/m');
  assert.deepEqual(before, { ok: true, probe: false });
  health.settle('a/m', false, 'rate_limited', { retryAfterMs: 7000 });
  health.settle('a/m', before.probe, 'ok'); // an attempt that was already in flight answers
  assert.deepEqual(health.admit('a/m'), { ok: false, until: clock.now() + 7000, reason: 'rate_limited' }, 'still cooling');
  clock.advance(7000);
  const probe = health.admit('a/m');
  assert.deepEqual(probe, { ok: true, probe: true });
  health.settle('a/m', probe.probe, 'ok');
  assert.equal(health.describe('a/m'), undefined, 'the probe closed it');
});

test('failures of attempts admitted before the breaker opened do not extend it', () => {
  const { clock, board, health } = setup();
  fail(health, 'a/m', 3);
  clock.advance(1000);
  health.settle('a/m', false, 'failure');
  const blocked = health.admit('a/m');
  assert.ok(!blocked.ok);
  assert.equal(blocked.until, clock.now() - 1000 + 30_000);
  assert.equal(board.published.length, 1);
});

test('early probe: a route cooling after failures may be probed before its cooldown ends, a 429 one never', () => {
  const { clock, health } = setup();
  fail(health, 'a/m', 3);
  health.settle('b/m', false, 'rate_limited', { retryAfterMs: 5000 });
  assert.equal(health.admit('a/m', clock.now() + 10_000).ok, false, 'the cooldown ends after the deadline');
  assert.deepEqual(health.admit('a/m', clock.now() + 60_000), { ok: true, probe: true });
  assert.equal(health.admit('a/m', clock.now() + 60_000).ok, false, 'one probe at a time');
  assert.equal(health.admit('b/m', clock.now() + 60_000).ok, false);
});

test('a probe that never reports stops blocking the route after a cooldown', () => {
  const { clock, health } = setup();
  fail(health, 'a/m', 3);
  clock.advance(30_000);
  assert.equal(health.admit('a/m').ok, true);
  clock.advance(29_000);
  assert.equal(health.admit('a/m').ok, false);
  clock.advance(1000);
  assert.deepEqual(health.admit('a/m'), { ok: true, probe: true });
});

test("another instance's cooldown is applied, as a rate limit when its reason says 429", () => {
  const { clock, board, health } = setup();
  board.hear({ route: 'a/m', until: clock.now() + 5000, reason: '3 failures in a row: HTTP 500' });
  board.hear({ route: 'b/m', until: clock.now() + 8000, reason: '429 from upstream' });
  board.hear({ route: 'c/m', until: clock.now() - 1, reason: 'old news' });
  assert.deepEqual(health.admit('a/m'), { ok: false, until: clock.now() + 5000, reason: 'failing' });
  assert.deepEqual(health.admit('b/m'), { ok: false, until: clock.now() + 8000, reason: 'rate_limited' });
  assert.deepEqual(health.admit('c/m'), { ok: true, probe: false });
  clock.advance(5000);
  assert.deepEqual(health.admit('a/m'), { ok: true, probe: true }, 'then probed like a local cooldown');
  assert.equal(board.published.length, 0, 'what was heard is not published again');
});

test('failure_threshold 0 turns the breaker off entirely', () => {
  const { board, health } = setup({ failureThreshold: 0 });
  fail(health, 'a/m', 10);
  health.settle('a/m', false, 'rate_limited', { retryAfterMs: 5000 });
  board.hear({ route: 'a/m', until: Date.now() * 2, reason: '429 from upstream' });
  assert.deepEqual(health.admit('a/m'), { ok: true, probe: false });
  assert.equal(board.published.length, 0);
});
