import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema, crossFieldIssues, parseRoute } from './schema.js';

describe('parseRoute', () => {
  it('splits at the first "/" so the upstream model may contain "/"', () => {
    assert.deepEqual(parseRoute('openai/gpt-5'), { provider: 'openai', model: 'gpt-5' });
    assert.deepEqual(parseRoute('openrouter/deepseek/deepseek-chat'), {
      provider: 'openrouter',
      model: 'deepseek/deepseek-chat',
    });
  });

  it('throws when either part is missing', () => {
    for (const bad of ['openai', '/gpt-5', 'openai/', '']) assert.throws(() => parseRoute(bad), /invalid route/);
  });
});

describe('configSchema', () => {
  it('fills every default from an empty object', () => {
    assert.deepEqual(configSchema.parse({}), {
      host: '127.0.0.1',
      port: 8080,
      max_request_size: 10_485_760,
      log_level: 'info',
      streaming: { first_byte_deadline: 2000, keepalive_interval: 15_000, max_event_size: 8_388_608 },
      shutdown_grace: 10_000,
      cors: {},
      providers: {},
      models: {},
      keys: [],
      retries: { max_attempts: 4, initial_backoff: 200, max_backoff: 8000, max_retry_after: 60_000, deadline: 120_000 },
      health: { failure_threshold: 3, cooldown: 30_000, max_cooldown: 300_000 },
      store: 'sqlite:data/sluice.db',
      redis_outage: 'open',
    });
  });

  it('treats an empty section (null) as absent', () => {
    const parsed = configSchema.parse({ streaming: null, providers: null, models: null, keys: null });
    assert.equal(parsed.streaming.keepalive_interval, 15_000);
    assert.deepEqual(parsed.keys, []);
  });

  it('applies provider defaults, strips trailing slashes and drops an empty api_key', () => {
    const parsed = configSchema.parse({
      providers: { local: { kind: 'openai', base_url: 'http://localhost:8000/v1//', api_key: '' } },
    });
    assert.deepEqual(parsed.providers.local, {
      kind: 'openai',
      base_url: 'http://localhost:8000/v1',
      api_key: undefined,
      headers: {},
      max_connections: 256,
      send_stream_options: true,
      max_tokens_field: 'max_tokens',
      timeouts: { connect: 10_000, first_token: 600_000, idle: 300_000, total: 0 },
    });
  });

  it('gives anthropic and gemini providers their public base URLs and defaults', () => {
    const parsed = configSchema.parse({
      providers: { claude: { kind: 'anthropic', api_key: 'k' }, google: { kind: 'gemini', api_key: 'g' } },
    });
    const claude = parsed.providers.claude;
    const google = parsed.providers.google;
    assert.ok(claude?.kind === 'anthropic' && google?.kind === 'gemini');
    assert.equal(claude.base_url, 'https://api.anthropic.com');
    assert.equal(google.base_url, 'https://generativelanguage.googleapis.com/v1beta');
    assert.equal(claude.anthropic_version, '2023-06-01');
    assert.equal(claude.default_max_tokens, 4096);
  });

  it('gives two defaulted configs separate objects', () => {
    const a = configSchema.parse({});
    const b = configSchema.parse({});
    a.keys.push({ name: 'x', key: 'sk-x-12345678' });
    a.providers.x = { kind: 'openai', base_url: 'http://x', headers: {}, max_connections: 1, send_stream_options: true, max_tokens_field: 'max_tokens', timeouts: { connect: 1, first_token: 1, idle: 1, total: 0 } };
    assert.deepEqual(b.keys, []);
    assert.deepEqual(b.providers, {});
  });
});

describe('crossFieldIssues', () => {
  it('finds routes to undefined providers and duplicate key names and secrets', () => {
    const issues = crossFieldIssues({
      providers: { a: {}, b: {} },
      models: { m: { routes: ['a/x', 'c/y', 'malformed', 42] } },
      keys: [
        { name: 'one', key: 'secret-1' },
        { name: 'one', key: 'secret-2' },
        { name: 'two', key: 'secret-1' },
      ],
    });
    assert.deepEqual(issues, [
      {
        path: ['models', 'm', 'routes', 1],
        message: 'route "c/y" names provider "c", which is not defined in providers (defined: a, b)',
      },
      { path: ['keys', 1, 'name'], message: 'duplicate key name "one" (already used by keys[0])' },
      { path: ['keys', 2, 'key'], message: 'same secret as keys[0]; every key needs its own secret' },
    ]);
    assert.ok(issues.every((i) => !i.message.includes('secret-1')), 'a secret was printed');
  });

  it('tolerates malformed input, since it also runs when other checks failed', () => {
    for (const value of [null, 5, [], { providers: [], models: 'x', keys: {} }, { keys: [null, 1] }]) {
      assert.deepEqual(crossFieldIssues(value), []);
    }
  });
});

describe('admin_key', () => {
  it('must differ from every client key', () => {
    const issues = crossFieldIssues({ keys: [{ name: 'a', key: 'sk-shared-secret-123' }], admin_key: 'sk-shared-secret-123' });
    assert.deepEqual(issues.map((i) => i.path), [['admin_key']]);
    assert.ok(!issues[0]?.message.includes('sk-shared-secret-123'), 'the secret is never echoed');
  });
});
