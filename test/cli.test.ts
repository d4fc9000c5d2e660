/** The `sluice` command as users run it: the real bin (compiled by `npm install`), as a child process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const bin = resolve(import.meta.dirname, '..', 'bin', 'sluice.js');
const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));

function writeConfig(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Waits for the start banner; resolves with the URL it names and what stderr said so far. */
function banner(child: ChildProcessWithoutNullStreams): Promise<{ url: string; stderr: string }> {
  let stderr = '';
  child.stderr.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${stderr}`)), 10_000);
    child.stderr.on('data', (text: string) => {
      stderr += text;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ url: match[1], stderr });
      }
    });
  });
}

const minimal = 'providers:\n  up:\n    kind: openai\n    base_url: http://127.0.0.1:9/v1\nmodels:\n  m:\n    routes: [up/x]\n';

test('sluice check: OK summary for a valid file, every problem with file:line and key path otherwise', () => {
  const good = writeConfig('good.yaml', minimal);
  const ok = spawnSync(process.execPath, [bin, 'check', '--config', good], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /good\.yaml: OK \(1 provider/);

  const bad = writeConfig('bad.yaml', `${minimal}keys:\n  - name: k\n    key: \${SLUICE_CLI_TEST_UNSET}\nlog_levl: info\n`);
  const failed = spawnSync(process.execPath, [bin, 'check', '--config', bad], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /bad\.yaml:10:10: keys\[0\]\.key: \$\{SLUICE_CLI_TEST_UNSET\} is not set/);
  assert.match(failed.stderr, /bad\.yaml:11:1: log_levl: unknown key "log_levl" \(did you mean "log_level"\?\)/);
});

test('sluice check: a local route whose GGUF file is missing is a problem', () => {
  const models = join(dir, 'models');
  mkdirSync(models, { recursive: true });
  writeFileSync(join(models, 'there.gguf'), '');
  const config = writeConfig('local.yaml', `providers:\n  local:\n    kind: local\n    models_dir: ${models}\nmodels:\n  a:\n    routes: [local/there.gguf]\n  b:\n    routes: [local/gone.gguf]\n`);
  const result = spawnSync(process.execPath, [bin, 'check', '--config', config], { encoding: 'utf8' });
  assert.equal(result.status, 1);
  assert.match(result.stderr, new RegExp(`models\\.b: route local/gone\\.gguf: no file ${join(models, 'gone.gguf').replaceAll('.', '\\.')}`));
  assert.doesNotMatch(result.stderr, /there\.gguf/);
});

test('sluice serve refuses to start without keys on a non-loopback address', () => {
  const config = writeConfig('open.yaml', minimal);
  const run = spawnSync(process.execPath, [bin, 'serve', '--config', config, '--host', '0.0.0.0', '--port', '0'], { encoding: 'utf8', timeout: 10_000, cwd: dir });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /refusing to start: no client keys/);
});

test('sluice serve: says it serves without authentication on loopback, answers, and stops cleanly on SIGTERM', async (t) => {
  const config = writeConfig('serve.yaml', minimal);
  const child = spawn(process.execPath, [bin, 'serve', '--config', config, '--port', '0'], { env: { ...process.env, SLUICE_LOG_LEVEL: 'info' }, cwd: dir });
  t.after(() => child.kill('SIGKILL'));
  const { url, stderr } = await banner(child);
  assert.match(stderr, /auth: none\. No client keys are configured/);
  assert.match(stderr, /models:\n {4}m -> up\/x\n/);
  assert.match(stderr, /try it:\n {4}curl -N http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions .*"model":"m"/);
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200);
  const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
  assert.deepEqual(models.data.map((m) => m.id), ['m']);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('PORT and --port: the flag wins over the environment', async (t) => {
  const config = writeConfig('port.yaml', minimal);
  const child = spawn(process.execPath, [bin, 'serve', '--config', config, '--port', '0'], { env: { ...process.env, PORT: '1' }, cwd: dir });
  t.after(() => child.kill('SIGKILL'));
  const { url } = await banner(child);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.doesNotMatch(url, /:1$/);
});

test('unknown commands and flags are usage errors', () => {
  assert.equal(spawnSync(process.execPath, [bin, 'frobnicate'], { encoding: 'utf8' }).status, 2);
  const flag = spawnSync(process.execPath, [bin, 'serve', '--nope'], { encoding: 'utf8' });
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /--nope/);
});
