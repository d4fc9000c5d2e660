import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, defaultConfig, formatProblem, loadConfigFile, parseConfigText } from './load-config.js';
import type { SluiceConfig } from './schema.js';

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** Problems as "line:column path: message", the form that pins position, path and wording. */
function problemsOf(text: string, env: Record<string, string | undefined> = {}): string[] {
  try {
    parseConfigText(text, 'sluice.yaml', env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
  }
  return assert.fail('expected a ConfigError');
}

const provider = ['providers:', '  openai:', '    kind: openai', '    base_url: https://api.openai.com/v1'];

const fullExample = yaml(
  'host: 127.0.0.1',
  'port: 8080',
  'max_request_size: 10MiB',
  'log_level: info',
  'streaming:',
  '  first_byte_deadline: 2s',
  '  keepalive_interval: 15s',
  '  max_event_size: 8MiB',
  'shutdown_grace: 10s',
  'cors:',
  '  allow_origins: ["*"]',
  'providers:',
  '  openai:',
  '    kind: openai',
  '    base_url: https://api.openai.com/v1/',
  '    api_key: ${OPENAI_API_KEY}',
  '    headers: {X-Foo: bar}',
  '    reasoning_field: reasoning_content',
  '    send_stream_options: true',
  '    max_connections: 256',
  '  openrouter:',
  '    kind: openai',
  '    base_url: https://openrouter.ai/api/v1',
  '    send_stream_options: false',
  'models:',
  '  gpt-5:',
  '    routes: [openai/gpt-5]',
  '  deepseek-chat:',
  '    routes: [openrouter/deepseek/deepseek-chat, openai/deepseek-chat]',
  'keys:',
  '  - name: demo',
  '    key: ${SLUICE_DEMO_KEY}',
);

const env = { OPENAI_API_KEY: 'sk-test', SLUICE_DEMO_KEY: 'demo-secret-1' };

describe('parseConfigText: valid configs', () => {
  it('parses the full example with values, units and defaults resolved', () => {
    const expected: SluiceConfig = {
      host: '127.0.0.1',
      port: 8080,
      max_request_size: 10_485_760,
      log_level: 'info',
      streaming: { first_byte_deadline: 2000, keepalive_interval: 15_000, max_event_size: 8_388_608 },
      shutdown_grace: 10_000,
      cors: { allow_origins: ['*'] },
      providers: {
        openai: {
          kind: 'openai',
          base_url: 'https://api.openai.com/v1',
          api_key: 'sk-test',
          headers: { 'X-Foo': 'bar' },
          reasoning_field: 'reasoning_content',
          send_stream_options: true,
          max_tokens_field: 'max_tokens',
          max_connections: 256,
          timeouts: { connect: 10_000, first_token: 600_000, idle: 300_000, total: 0 },
        },
        openrouter: {
          kind: 'openai',
          base_url: 'https://openrouter.ai/api/v1',
          headers: {},
          send_stream_options: false,
          max_tokens_field: 'max_tokens',
          max_connections: 256,
          timeouts: { connect: 10_000, first_token: 600_000, idle: 300_000, total: 0 },
        },
      },
      models: {
        'gpt-5': { routes: ['openai/gpt-5'] },
        'deepseek-chat': { routes: ['openrouter/deepseek/deepseek-chat', 'openai/deepseek-chat'] },
      },
      keys: [{ name: 'demo', key: 'demo-secret-1' }],
      retries: { max_attempts: 4, initial_backoff: 200, max_backoff: 8000, max_retry_after: 60_000, deadline: 120_000 },
      health: { failure_threshold: 3, cooldown: 30_000, max_cooldown: 300_000 },
      store: 'sqlite:data/sluice.db',
      redis_outage: 'open',
    };
    assert.deepEqual(parseConfigText(fullExample, 'sluice.yaml', env), expected);
  });

  it('reads an empty or comment-only file as the default config', () => {
    const defaults = defaultConfig();
    assert.deepEqual(parseConfigText('', 'sluice.yaml', {}), defaults);
    assert.deepEqual(parseConfigText('# nothing yet\n', 'sluice.yaml', {}), defaults);
    assert.equal(defaults.port, 8080);
    assert.equal(defaults.streaming.first_byte_deadline, 2000);
    assert.deepEqual(defaults.providers, {});
  });

  it('applies ${VAR:-default} and turns $${ into a literal ${', () => {
    const config = parseConfigText(
      yaml(
        'port: ${PORT:-9090}',
        'host: "${HOST:-0.0.0.0}"',
        ...provider,
        '    api_key: ${KEY:-}',
        '    headers:',
        '      X-Template: "$${not_a_var}"',
        '      X-Mixed: a-${SET}-$${b}',
      ),
      'sluice.yaml',
      { SET: 'set' },
    );
    assert.equal(config.port, 9090);
    assert.equal(config.host, '0.0.0.0');
    const openai = config.providers.openai;
    assert.ok(openai !== undefined && openai.kind !== 'local');
    assert.equal(openai.api_key, undefined);
    assert.deepEqual(openai.headers, { 'X-Template': '${not_a_var}', 'X-Mixed': 'a-set-${b}' });
  });

  it('never interpolates keys', () => {
    const config = parseConfigText(
      yaml(...provider, 'models:', '  ${NAME}:', '    routes: [openai/x]'),
      'sluice.yaml',
      { NAME: 'renamed' },
    );
    assert.deepEqual(Object.keys(config.models), ['${NAME}']);
  });
});

describe('parseConfigText: problems', () => {
  it('reports an unknown top-level key at the key, with a suggestion', () => {
    assert.deepEqual(problemsOf(yaml('host: 0.0.0.0', 'prot: 80')), [
      '2:1 prot: unknown key "prot" (did you mean "port"?)',
    ]);
  });

  it('reports an unknown nested key at the key, with a suggestion', () => {
    assert.deepEqual(
      problemsOf(yaml('providers:', '  openai:', '    kind: openai', '    bse_url: https://x', '    api_key: k')),
      [
        '3:5 providers.openai.base_url: missing required key "base_url"',
        '4:5 providers.openai.bse_url: unknown key "bse_url" (did you mean "base_url"?)',
      ],
    );
  });

  it('reports wrong types at the value', () => {
    assert.deepEqual(
      problemsOf(yaml('port: eighty', ...provider, '    send_stream_options: "no"', 'keys:', '  - name: a', '    key: 12345678')),
      [
        '1:7 port: expected an integer between 0 and 65535, got "eighty"',
        '6:26 providers.openai.send_stream_options: expected true or false, got "no"',
        '9:10 keys[0].key: expected a string, got 12345678 (put the value in quotes to make it a string)',
      ],
    );
  });

  it('reports bad durations, sizes and enum values', () => {
    assert.deepEqual(
      problemsOf(yaml('log_level: verbose', 'max_request_size: 10 megs', 'streaming:', '  keepalive_interval: 15 seconds')),
      [
        '1:12 log_level: expected one of: debug, info, warn, error, silent; got "verbose"',
        '2:19 max_request_size: expected a size like "10MiB" or "512KB" (units: B, KB, KiB, MB, MiB, GB, GiB; a bare number means bytes), got "10 megs"',
        '4:23 streaming.keepalive_interval: expected a duration like "15s" or "500ms" (units: ms, s, m, h; a bare number means milliseconds), got "15 seconds"',
      ],
    );
  });

  it('reports a route to an undefined provider and malformed routes', () => {
    assert.deepEqual(
      problemsOf(yaml(...provider, 'models:', '  gpt-5:', '    routes:', '      - openai/gpt-5', '      - anthropic/claude', '      - gpt-5', '      - /gpt-5')),
      [
        '9:9 models.gpt-5.routes[1]: route "anthropic/claude" names provider "anthropic", which is not defined in providers (defined: openai)',
        '10:9 models.gpt-5.routes[2]: expected a route like "openai/gpt-4o" ("<provider>/<upstream model>")',
        '11:9 models.gpt-5.routes[3]: expected a route like "openai/gpt-4o" ("<provider>/<upstream model>")',
      ],
    );
  });

  it('checks only the provider part of a route whose upstream model contains "/"', () => {
    assert.deepEqual(problemsOf(yaml(...provider, 'models:', '  ds:', '    routes: [openrouter/deepseek/deepseek-chat]')), [
      '7:14 models.ds.routes[0]: route "openrouter/deepseek/deepseek-chat" names provider "openrouter", which is not defined in providers (defined: openai)',
    ]);
  });

  it('reports an unset ${VAR} once, at its line, without a follow-on schema problem', () => {
    assert.deepEqual(problemsOf(yaml(...provider, '    api_key: ${OPENAI_API_KEY}', 'keys:', '  - name: a', '    key: ${SLUICE_KEY}')), [
      '5:14 providers.openai.api_key: ${OPENAI_API_KEY} is not set (set it, or give a default: ${OPENAI_API_KEY:-value})',
      '8:10 keys[0].key: ${SLUICE_KEY} is not set (set it, or give a default: ${SLUICE_KEY:-value})',
    ]);
  });

  it('reports duplicate YAML keys, key names and key secrets without printing secrets', () => {
    const found = problemsOf(
      yaml('port: 1', 'port: 2', 'keys:', '  - name: a', '    key: secret-one', '  - name: a', '    key: secret-one'),
    );
    assert.deepEqual(found, [
      '2:1 port: duplicate key "port": it is already set earlier in the same mapping',
      '6:11 keys[1].name: duplicate key name "a" (already used by keys[0])',
      '7:10 keys[1].key: same secret as keys[0]; every key needs its own secret',
    ]);
    assert.ok(found.every((line) => !line.includes('secret-one')));
  });

  it('reports YAML syntax errors with their position', () => {
    assert.deepEqual(problemsOf(yaml('host: a', 'providers:', '  openai:', '    kind: openai', '   base_url: x')), [
      '5:1 : YAML syntax error: All mapping items must start at the same column',
    ]);
    assert.deepEqual(problemsOf(yaml('host: "unterminated')), ['2:1 : YAML syntax error: Missing closing "quote']);
    assert.deepEqual(problemsOf(yaml('port: 1', '---', 'port: 2')), [
      '2:1 : the file must hold a single YAML document, but "---" starts another',
    ]);
  });

  it('reports a missing required key at the mapping that lacks it', () => {
    assert.deepEqual(problemsOf(yaml('providers:', '  openai:', '    api_key: k', '    kind: openai')), [
      '3:5 providers.openai.base_url: missing required key "base_url"',
    ]);
    assert.deepEqual(problemsOf(yaml('models:', '  m:', '    route: [a/b]')), [
      '3:5 models.m.routes: missing required key "routes"',
      '3:5 models.m.route: unknown key "route" (did you mean "routes"?)',
    ]);
  });

  it('reports unknown provider kinds, bad provider names and bad URLs', () => {
    assert.deepEqual(
      problemsOf(
        yaml('providers:', '  a/b:', '    kind: openai', '    base_url: http://x', '  c:', '    kind: opena', '    base_url: http://x', '  d:', '    kind: openai', '    base_url: ftp://x'),
      ),
      [
        '2:3 providers.a/b: invalid name "a/b": provider names may only contain letters, digits, "_", "." and "-"',
        '6:11 providers.c.kind: unknown kind "opena", expected one of: openai, anthropic, gemini, local (did you mean "openai"?)',
        '10:15 providers.d.base_url: expected an http(s) URL like "https://api.openai.com/v1", got "ftp://x"',
      ],
    );
  });

  it('reports every problem at once, in file order', () => {
    const found = problemsOf(
      yaml('port: 70000', 'streaming:', '  first_byte_deadline: soon', ...provider, '    bogus: 1', 'models:', '  m:', '    routes: [nope/x]', 'cors:', '  allow_origins: [https://a.example/]'),
      {},
    );
    assert.deepEqual(
      found.map((line) => line.split(': ').slice(0, 1)[0]),
      ['1:7 port', '3:24 streaming.first_byte_deadline', '8:5 providers.openai.bogus', '11:14 models.m.routes[0]', '13:19 cors.allow_origins[0]'],
    );
  });

  it('quotes path keys that contain dots', () => {
    assert.deepEqual(problemsOf(yaml('models:', '  gpt-4.1:', '    routes: [x/gpt-4.1]')), [
      '3:14 models["gpt-4.1"].routes[0]: route "x/gpt-4.1" names provider "x", which is not defined in providers (defined: none)',
    ]);
  });

  it('reports a root that is not a mapping', () => {
    assert.deepEqual(problemsOf('just text\n'), ['1:1 : expected a mapping, got "just text"']);
  });
});

describe('ConfigError and formatProblem', () => {
  it('formats one problem per line, naming file, line, column and path', () => {
    try {
      parseConfigText(yaml('port: x', 'hots: a'), 'conf/sluice.yaml', {});
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.name, 'ConfigError');
      assert.equal(
        error.message,
        [
          'conf/sluice.yaml:1:7: port: expected an integer between 0 and 65535, got "x"',
          'conf/sluice.yaml:2:1: hots: unknown key "hots" (did you mean "host"?)',
        ].join('\n'),
      );
    }
  });

  it('leaves out the position and path when there are none', () => {
    assert.equal(formatProblem({ file: 'a.yaml', line: 0, column: 0, path: '', message: 'gone' }), 'a.yaml: gone');
    assert.equal(formatProblem({ file: 'a.yaml', line: 3, column: 1, path: '', message: 'bad' }), 'a.yaml:3:1: bad');
  });
});

describe('loadConfigFile', () => {
  it('reads and validates a file, taking env from the caller', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-config-'));
    try {
      const path = join(dir, 'sluice.yaml');
      await writeFile(path, fullExample);
      const config = await loadConfigFile(path, env);
      assert.equal(config.keys[0]?.key, 'demo-secret-1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('turns a missing file into a ConfigError with a clear message', async () => {
    await assert.rejects(loadConfigFile('/nonexistent/sluice.yaml', {}), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, '/nonexistent/sluice.yaml: cannot read the config file: it does not exist');
      return true;
    });
  });
});
