import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUSY_TAKES, GRAIN, LocalAllowances, type RemotePlan } from './local-allowance.js';

const rpm = (perMinute: number, amount = 1) => ({ buckets: [{ key: 'k', perMinute, amount }] });
const KEYS = ['bucket:k'];

/** A take as RedisLimiter makes it: local first, else a planned call that Redis grants with `extra`. */
function take(a: LocalAllowances, perMinute: number, extra: number, amount = 1): 'local' | RemotePlan {
  if (a.tryLocal(rpm(perMinute, amount), KEYS, undefined) !== undefined) return 'local';
  const plan = a.planRemote(KEYS, undefined);
  a.settleRemote(KEYS, undefined, plan, { remaining: [perMinute - amount - extra], extras: [(plan.want[0] ?? 0) > 0 ? extra : 0], extraMembers: [], granted: true });
  return plan;
}

test('a quiet key never holds an allowance: every take asks Redis for nothing extra, refunds go to Redis', () => {
  const a = new LocalAllowances(() => 0);
  for (let window = 0; window < 3; window++) {
    for (let i = 0; i < BUSY_TAKES - 1; i++) {
      const plan = take(a, 6000, 100);
      assert.notEqual(plan, 'local');
      assert.deepEqual((plan as RemotePlan).want, [0]);
    }
    assert.equal(a.refund('bucket:k', 5), 5, 'a quiet bucket keeps nothing');
    assert.deepEqual(a.endWindow(), []);
  }
});

test('a busy key asks for at most 1/GRAIN of the capacity and twice its last window, then serves from memory', () => {
  const a = new LocalAllowances(() => 0);
  for (let i = 0; i < BUSY_TAKES; i++) take(a, 16_000, 0);
  a.endWindow();
  const plan = take(a, 16_000, 16);
  assert.notEqual(plan, 'local');
  assert.deepEqual((plan as RemotePlan).want, [2 * BUSY_TAKES], 'twice the 8 units of the last window (capacity allows 1000)');
  for (let i = 0; i < 16; i++) assert.equal(take(a, 16_000, 0), 'local');
  assert.notEqual(take(a, 16_000, 0), 'local', 'the allowance is used up: back to Redis');

  const big = new LocalAllowances(() => 0);
  for (let i = 0; i < BUSY_TAKES; i++) take(big, 16 * 50, 0, 1000);
  big.endWindow();
  assert.deepEqual((take(big, 16 * 50, 0, 1) as RemotePlan).want, [50], 'capped at capacity / GRAIN');
});

test('a small bucket (capacity under GRAIN) is never busy, however often it is used', () => {
  const a = new LocalAllowances(() => 0);
  for (let i = 0; i < 4 * BUSY_TAKES; i++) take(a, GRAIN - 1, 0, 0);
  a.endWindow();
  assert.deepEqual((take(a, GRAIN - 1, 5) as RemotePlan).want, [0]);
});

test('only one call at a time asks for extras: a burst does not take an allowance per request', () => {
  const a = new LocalAllowances(() => 0);
  for (let i = 0; i < BUSY_TAKES; i++) take(a, 16_000, 0);
  a.endWindow();
  assert.equal(a.tryLocal(rpm(16_000), KEYS, undefined), undefined);
  const first = a.planRemote(KEYS, undefined);
  assert.equal(a.tryLocal(rpm(16_000), KEYS, undefined), undefined);
  const second = a.planRemote(KEYS, undefined);
  assert.ok((first.want[0] ?? 0) > 0);
  assert.deepEqual(second.want, [0]);
  a.settleRemote(KEYS, undefined, first, undefined); // the call failed: the next may ask again
  assert.equal(a.tryLocal(rpm(16_000), KEYS, undefined), undefined);
  assert.ok((a.planRemote(KEYS, undefined).want[0] ?? 0) > 0);
});

test('busy: refunds and charges stay here; a window hands back what exceeds the next allowance, all of it once quiet', () => {
  const a = new LocalAllowances(() => 0);
  for (let i = 0; i < BUSY_TAKES; i++) take(a, 16_000, 0);
  a.endWindow(); // busy: the next allowance is 2 x 8 units
  assert.notEqual(take(a, 16_000, 10), 'local');
  for (let i = 1; i < BUSY_TAKES; i++) assert.equal(take(a, 16_000, 0), 'local');
  assert.equal(a.refund('bucket:k', 3), 0);
  assert.equal(a.refund('bucket:k', -1), 0);
  assert.deepEqual(a.endWindow(), [], 'busy: the 5 left are within the next allowance (16), kept');
  assert.deepEqual(a.endWindow(), [{ bucket: { key: 'bucket:k', perMinute: 16_000, refund: 5 } }], 'a quiet window: all handed back');

  const b = new LocalAllowances(() => 0);
  for (let i = 0; i < BUSY_TAKES; i++) take(b, 16_000, 0);
  b.endWindow();
  assert.notEqual(take(b, 16_000, 16), 'local');
  for (let i = 1; i < BUSY_TAKES; i++) assert.equal(take(b, 16_000, 0), 'local');
  b.refund('bucket:k', 100); // 9 left + 100 refunded
  assert.deepEqual(b.endWindow(), [{ bucket: { key: 'bucket:k', perMinute: 16_000, refund: 109 - 16 } }], 'only the next allowance is kept');
  assert.equal(b.refund('bucket:k', -200), 0, 'more used than reserved: owed');
  assert.deepEqual(b.planRemote(KEYS, undefined).giveBack, [16 - 200], 'the debt travels with the next call');
});

test('an allowance below half of what the key uses asks for one top-up at a time', () => {
  const a = new LocalAllowances(() => 0);
  for (let i = 0; i < BUSY_TAKES; i++) take(a, 16_000, 0);
  a.endWindow();
  take(a, 16_000, 16);
  for (let i = 0; i < 8; i++) take(a, 16_000, 0); // 16 -> 8: not yet below half
  assert.deepEqual(a.lowOnes(KEYS), []);
  take(a, 16_000, 0);
  assert.deepEqual(a.lowOnes(KEYS), [{ key: 'bucket:k', perMinute: 16_000, want: 16 }]);
  assert.deepEqual(a.lowOnes(KEYS), [], 'one top-up in flight at a time');
  a.settleTopUp('bucket:k', 16);
  assert.equal(take(a, 16_000, 0), 'local');
  assert.deepEqual(a.lowOnes(KEYS), [], 'topped up: 22 left');
});

test('slots: a busy pool keeps finished slots for the next request; the window releases the free ones only', () => {
  const a = new LocalAllowances(() => 0);
  const request = { buckets: [], slot: { key: 's', max: 64 } };
  const slotTake = (members: string[]): string | undefined => {
    const local = a.tryLocal(request, [], 'slots:s');
    if (local !== undefined) return local.member;
    const plan = a.planRemote([], 'slots:s');
    a.settleRemote([], 'slots:s', plan, { remaining: [], extras: [], extraMembers: plan.wantSlots > 0 ? members : [], granted: true });
    return 'own';
  };
  for (let i = 0; i < BUSY_TAKES; i++) {
    slotTake([]);
    assert.equal(a.release('slots:s', `m${i}`), false, 'quiet: released in Redis');
  }
  for (let i = 0; i < 3; i++) slotTake([]); // 3 in use at once
  a.endWindow();
  assert.equal(slotTake(['x1', 'x2', 'x3']), 'own');
  assert.equal(slotTake([]), 'x3');
  assert.equal(a.release('slots:s', 'own'), true, 'busy: kept for the next request');
  assert.equal(slotTake([]), 'own');
  const back = a.endWindow();
  assert.deepEqual(back, [{ slot: { key: 'slots:s', members: ['x1', 'x2'] } }], 'slots in use stay held');
});

test('a busy pool: a take that finds no free slot asks Redis for extras; the window keeps no more than the last one had in use', () => {
  const a = new LocalAllowances(() => 0);
  const request = { buckets: [], slot: { key: 's', max: 1_600 } };
  const viaRedis = (extraMembers: string[]): number => {
    const plan = a.planRemote([], 'slots:s');
    a.settleRemote([], 'slots:s', plan, { remaining: [], extras: [], extraMembers: plan.wantSlots > 0 ? extraMembers : [], granted: true });
    return plan.wantSlots;
  };
  for (let i = 0; i < 40; i++) {
    assert.equal(a.tryLocal(request, [], 'slots:s'), undefined);
    viaRedis([]); // 40 in use at once
  }
  a.endWindow(); // busy; the last window had 40 in use at once
  for (let i = 0; i < 40; i++) a.release('slots:s', `m${i}`);
  assert.equal(a.tryLocal(request, [], 'slots:s')?.member, 'm39', 'a finished request\'s slot serves the next one');
  for (let i = 0; i < 39; i++) assert.ok(a.tryLocal(request, [], 'slots:s') !== undefined);
  assert.equal(a.tryLocal(request, [], 'slots:s'), undefined, 'none free: to Redis');
  assert.equal(viaRedis(['x1', 'x2']), 40, 'asking for the last window\'s need as extras');
  assert.equal(a.tryLocal(request, [], 'slots:s')?.member, 'x2');
  for (let i = 0; i < 36; i++) a.release('slots:s', `m${i}`); // 42 had been in use at once; now 6, with 37 free
  const back = a.endWindow();
  assert.equal(back.length, 1);
  assert.equal(back[0]?.slot?.members.length, 1, 'kept: 42 in all (6 in use + 36 free), the window\'s peak; the 1 over is handed back');
});
