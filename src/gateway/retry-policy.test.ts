import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../core/gateway-error.js';
import { backoffMs, defaultRetrySettings, judgeFailure, requestedWaitMs } from './retry-policy.js';

const http = (status: number, extra: { retryAfter?: string; retryAfterMs?: string } = {}) =>
  new GatewayError('upstream_http_error', `HTTP ${status}`, { status, route: 'p/m', ...extra });

test('the request is at fault (400, 413, 422): stop, and the upstream counts as healthy', () => {
  for (const status of [400, 413, 422]) assert.deepEqual(judgeFailure(http(status)), { next: 'stop', health: 'ok' }, String(status));
});

test('408, 409, 5xx and 529 are retried; 429 is retried and marks the route rate limited', () => {
  for (const status of [408, 409, 500, 502, 503, 504, 529]) assert.deepEqual(judgeFailure(http(status)), { next: 'retry', health: 'failure' }, String(status));
  assert.deepEqual(judgeFailure(http(429)), { next: 'retry', health: 'rate_limited' });
});

test('401, 403, 404 (and other 4xx) mean the route is misconfigured: other routes only, counted against it', () => {
  for (const status of [401, 402, 403, 404, 405]) assert.deepEqual(judgeFailure(http(status)), { next: 'other_routes', health: 'failure' }, String(status));
});

test('connection errors, timeouts, malformed and cut streams are retried', () => {
  for (const code of ['upstream_unreachable', 'upstream_timeout', 'upstream_protocol_error', 'upstream_incomplete'] as const) {
    assert.deepEqual(judgeFailure(new GatewayError(code, code)), { next: 'retry', health: 'failure' }, code);
  }
});

test('in-band errors: overloaded is retried, a rate limit is one, a refused request goes to other routes', () => {
  const inBand = (upstreamType?: string, upstreamCode?: string) => new GatewayError('upstream_stream_error', 'in-band', { upstreamType, upstreamCode });
  assert.deepEqual(judgeFailure(inBand('overloaded_error')), { next: 'retry', health: 'failure' });
  assert.deepEqual(judgeFailure(inBand('server_error')), { next: 'retry', health: 'failure' });
  assert.deepEqual(judgeFailure(inBand('rate_limit_error')), { next: 'retry', health: 'rate_limited' });
  assert.deepEqual(judgeFailure(inBand(undefined, '429')), { next: 'retry', health: 'rate_limited' });
  // vLLM: data: {"error":{"object":"error","code":400,...}} in a 200 stream (LiteLLM #25492).
  assert.deepEqual(judgeFailure(inBand('BadRequestError', '400')), { next: 'other_routes', health: 'ok' });
  assert.deepEqual(judgeFailure(inBand('invalid_request_error')), { next: 'other_routes', health: 'ok' });
});

test("Sluice's own errors are not retried", () => {
  assert.equal(judgeFailure(new GatewayError('invalid_request', 'no')).next, 'stop');
  assert.equal(judgeFailure(new GatewayError('internal_error', 'bug')).next, 'stop');
});

test('requested wait: retry-after-ms first, then retry-after in seconds or as an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(requestedWaitMs(http(429, { retryAfterMs: '1500', retryAfter: '9' }), now), 1500);
  assert.equal(requestedWaitMs(http(429, { retryAfter: '2' }), now), 2000);
  assert.equal(requestedWaitMs(http(429, { retryAfter: '0.5' }), now), 500);
  assert.equal(requestedWaitMs(http(429, { retryAfter: 'Thu, 01 Jan 2026 00:00:30 GMT' }), now), 30_000);
  assert.equal(requestedWaitMs(http(429, { retryAfter: 'Wed, 31 Dec 2025 23:00:00 GMT' }), now), 0);
  assert.equal(requestedWaitMs(http(429, { retryAfter: 'soon' }), now), undefined);
  assert.equal(requestedWaitMs(http(429, { retryAfterMs: 'x', retryAfter: '-3' }), now), undefined);
  assert.equal(requestedWaitMs(http(500), now), undefined);
});

test('backoff: full jitter, capped exponential between 0 and min(max, initial * 2^n)', () => {
  const settings = { ...defaultRetrySettings, initialBackoffMs: 200, maxBackoffMs: 1000 };
  assert.equal(backoffMs(0, settings, () => 0), 0);
  assert.equal(backoffMs(0, settings, () => 0.5), 100);
  assert.equal(backoffMs(1, settings, () => 0.5), 200);
  assert.equal(backoffMs(2, settings, () => 0.999), 799);
  assert.equal(backoffMs(3, settings, () => 0.999), 999, 'capped at max_backoff');
  assert.equal(backoffMs(80, settings, () => 0.999), 999, 'no overflow for a large retry count');
});
