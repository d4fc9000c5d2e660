import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../config/load-config.js';
import { parseRedisUrl } from './redis-url.js';

test('config: redis, redis_outage (default open) and per-key rpm / tpm / max_concurrent', () => {
  const config = parseConfigText(
    "redis: 'redis://:secret@cache.internal:6380/2?prefix=prod:'\nredis_outage: closed\nkeys:\n  - name: a\n    key: sk-aaaaaaaa\n    rpm: 60\n    tpm: 100000\n    max_concurrent: 4\n",
    'sluice.yaml',
    {},
  );
  assert.equal(config.redis, 'redis://:secret@cache.internal:6380/2?prefix=prod:');
  assert.equal(config.redis_outage, 'closed');
  assert.deepEqual(config.keys[0], { name: 'a', key: 'sk-aaaaaaaa', rpm: 60, tpm: 100_000, max_concurrent: 4 });
  assert.equal(parseConfigText('port: 1\n', 'sluice.yaml', {}).redis_outage, 'open');
});

test('config: a bad limit, a non-Redis URL and an unknown outage policy are each reported with their path', () => {
  assert.throws(() => parseConfigText("redis: 'http://x'\nredis_outage: maybe\nkeys:\n  - name: a\n    key: sk-aaaaaaaa\n    rpm: 0\n", 'sluice.yaml', {}), (error: unknown) => {
    const text = String(error instanceof Error ? error.message : error);
    assert.match(text, /redis: expected a URL like "redis:\/\/127\.0\.0\.1:6379\/0"/);
    assert.match(text, /redis_outage: expected one of: open, closed/);
    assert.match(text, /sluice\.yaml:6:10: keys\[0\]\.rpm: expected an integer between 1 and/);
    return true;
  });
});

test('parseRedisUrl: host, port, db, credentials, TLS and the key prefix; the password never shown', () => {
  const target = parseRedisUrl('rediss://user:p%40ss@cache:6390/3?prefix=team-a:');
  assert.deepEqual(target.connection, { host: 'cache', port: 6390, db: 3, username: 'user', password: 'p@ss', tls: {} });
  assert.equal(target.prefix, 'team-a:');
  assert.doesNotMatch(target.display, /p%40ss|p@ss/);
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1').connection, { host: '127.0.0.1', port: 6379, db: 0 });
  assert.equal(parseRedisUrl('redis://127.0.0.1').prefix, 'sluice:');
  assert.throws(() => parseRedisUrl('redis://h/x'), /database in a Redis URL is a number/);
});
