/** `sluice keys` as operators run it: the real bin (built dist/), a temp SQLite store, --json parsed. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { startKeyUpstreams, type KeyUpstreams } from './support/keys.js';
import { startSluice } from './support/sluice.js';

const bin = resolve(import.meta.dirname, '..', 'bin', 'sluice.js');
const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-keys-'));
const db = join(dir, 'sluice.db');
let up: KeyUpstreams;
let configPath: string;

before(async () => {
  up = await startKeyUpstreams();
  configPath = join(dir, 'sluice.yaml');
  writeFileSync(configPath, up.config(`store: sqlite:${db}\nkeys:\n  - name: cfg\n    key: sk-config-key-for-tests\n`));
});
after(() => up.close());

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bin asynchronously (an in-process Sluice keeps serving meanwhile). */
function sluiceCli(...args: string[]): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [bin, 'keys', ...args, '--config', configPath], { cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', reject);
    child.once('close', (status) => resolveRun({ status, stdout, stderr }));
  });
}

async function json<T>(...args: string[]): Promise<T> {
  const run = await sluiceCli(...args, '--json');
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as T;
}

interface KeyJson {
  id: string;
  name: string;
  prefix: string;
  status: string;
  models: string[] | null;
  budget_usd: string | null;
  budget_nano_usd: number | null;
  budget_period: string;
  rpm: number | null;
  tpm: number | null;
  max_concurrent: number | null;
  expires_at: string | null;
  metadata: Record<string, string>;
  secret?: string;
}

test('create, list, update and revoke through the real bin; the secret is printed once with a warning', async () => {
  const created = await sluiceCli('create', '--name', 'ci', '--models', 'gpt', '--budget', '0.1', '--budget-period', 'day', '--rpm', '60', '--tpm', '1000', '--max-concurrent', '4', '--expires', '30d', '--metadata', 'team=ml', '--json');
  assert.equal(created.status, 0, created.stderr);
  assert.match(created.stderr, /will not be shown again/);
  const key = JSON.parse(created.stdout) as KeyJson;
  assert.match(key.secret ?? '', /^sk-sluice-[A-Za-z0-9_-]{43}$/);
  assert.equal(key.prefix, key.secret?.slice(0, 16));
  assert.deepEqual(
    [key.models, key.budget_usd, key.budget_nano_usd, key.budget_period, key.rpm, key.tpm, key.max_concurrent, key.metadata, key.status],
    [['gpt'], '0.1', 100_000_000, 'day', 60, 1000, 4, { team: 'ml' }, 'active'],
  );
  assert.ok(Math.abs(Date.parse(key.expires_at ?? '') - (Date.now() + 30 * 86_400_000)) < 60_000);

  const human = await sluiceCli('create', '--name', 'human');
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /secret:\s+sk-sluice-/);

  const listed = await json<KeyJson[]>('list');
  assert.deepEqual(listed.map((k) => k.name), ['ci', 'human']);
  assert.ok(listed.every((k) => k.secret === undefined && !('hash' in k)));
  const table = await sluiceCli('list');
  assert.match(table.stdout, /^ID\s+NAME\s+PREFIX\s+STATUS/);
  assert.match(table.stdout, /ci\s+sk-sluice-\S+\.\.\.\s+active\s+gpt\s+\$0\.10\/day\s+60 rpm, 1000 tpm, 4 concurrent/);
  assert.doesNotMatch(table.stdout, new RegExp(key.secret ?? 'x'));

  const updated = await json<KeyJson>('update', 'ci', '--no-budget', '--no-models', '--no-expiry', '--rpm', '10', '--metadata', 'team=', '--metadata', 'env=prod');
  assert.deepEqual([updated.budget_usd, updated.models, updated.expires_at, updated.rpm, updated.metadata], [null, null, null, 10, { env: 'prod' }]);
  const byId = await json<KeyJson>('update', key.id, '--budget', '12.345');
  assert.equal(byId.budget_nano_usd, 12_345_000_000);

  const revoked = await sluiceCli('revoke', 'human');
  assert.equal(revoked.status, 0, revoked.stderr);
  assert.match(revoked.stdout, /Revoked key "human"/);
  assert.equal((await json<KeyJson[]>('list')).find((k) => k.name === 'human')?.status, 'revoked');
});

test('bad input exits non-zero with a message naming the problem', async () => {
  const cases: [string[], number, RegExp][] = [
    [['create'], 2, /--name: is required/],
    [['create', '--name', 'x', '--budget', 'ten'], 2, /--budget: expected an amount in USD/],
    [['create', '--name', 'x', '--models', 'gpt,nope'], 2, /"nope" is not a model of this gateway \(configured: gpt, claude\)/],
    [['create', '--name', 'x', '--expires', 'later'], 2, /--expires/],
    [['create', '--name', 'x', '--frobnicate'], 2, /frobnicate/],
    [['create', '--name', 'cfg'], 1, /declared in the config file/],
    [['update', 'nobody', '--rpm', '5'], 1, /No key with id or name "nobody"/],
    [['update', 'ci'], 2, /nothing to update/],
    [['revoke'], 2, /expected one key id or name/],
    [['rotate'], 2, /unknown subcommand "rotate"/],
  ];
  await json('create', '--name', 'dup');
  cases.push([['create', '--name', 'dup'], 1, /already exists/]);
  for (const [args, status, message] of cases) {
    const run = await sluiceCli(...args);
    assert.equal(run.status, status, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message, args.join(' '));
  }
});

test('a key revoked with the CLI stops working on a running instance (same SQLite store) within 1 s', async (t) => {
  const sluice = await startSluice(up.config(`store: sqlite:${db}\n`));
  t.after(() => sluice.close(0));
  const { secret } = await json<KeyJson>('create', '--name', 'live');
  const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: secret ?? '', maxRetries: 0 });
  const works = () => client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }).then(() => true, () => false);
  // Created by another process: usable here within a poll.
  const started = Date.now();
  while (!(await works())) {
    assert.ok(Date.now() - started < 1000, 'a key created by the CLI was not picked up within 1 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  const revoked = await sluiceCli('revoke', 'live');
  assert.equal(revoked.status, 0, revoked.stderr);
  const revokedAt = Date.now();
  while (await works()) {
    assert.ok(Date.now() - revokedAt < 1000, 'the revoke did not take effect within 1 s');
    await new Promise((r) => setTimeout(r, 20));
  }
});

test('sluice serve off loopback: refuses with no key anywhere, starts once the store holds one', async () => {
  const bare = join(dir, 'bare.yaml');
  const bareDb = join(dir, 'bare.db');
  writeFileSync(bare, up.config(`store: sqlite:${bareDb}\n`));
  const serve = (): Promise<Run> =>
    new Promise((resolveRun) => {
      const child = spawn(process.execPath, [bin, 'serve', '--config', bare, '--host', '0.0.0.0', '--port', '0'], { cwd: dir });
      let stderr = '';
      let stopping = false;
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        stderr += s;
        // Once: a second SIGTERM would find no handler left and kill it outright.
        if (!stopping && /auth: /.test(stderr)) child.kill('SIGTERM');
        stopping ||= /auth: /.test(stderr);
      });
      child.once('close', (status) => resolveRun({ status, stdout: '', stderr }));
    });
  const refused = await serve();
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /refusing to start: no client keys exist/);

  const created = spawn(process.execPath, [bin, 'keys', 'create', '--name', 'first', '--config', bare], { cwd: dir });
  assert.equal(await new Promise((r) => created.once('close', r)), 0);
  const started = await serve();
  assert.match(started.stderr, /auth: 0 config key\(s\), 1 stored key\(s\)/);
  assert.equal(started.status, 0);
});
