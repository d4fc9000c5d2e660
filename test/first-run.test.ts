/**
 * The first run: `sluice serve` (the built CLI, as `npm start` runs it) in a folder with no
 * config serves what the machine has: providers from the usual environment variables, an Ollama
 * server's models, every GGUF in ./models. The banner's curl command works as pasted.
 * `sluice init` writes the same as a commented sluice.yaml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { tinyModel } from './support/gguf/tiny-model.js';

const bin = resolve(import.meta.dirname, '..', 'bin', 'sluice.js');
const run = promisify(execFile);
const script = ['Hello', ' from', ' the', ' tiny', ' local', ' model!'];

/** The environment minus anything that would make the machine's own providers show up. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/_API_KEY$|^OLLAMA_HOST$|^SLUICE_CONFIG$|^PORT$|^HF_/.test(k)) env[k] = v;
  }
  return { ...env, SLUICE_LOG_LEVEL: 'info', ...extra };
}

function folder(t: { after: (fn: () => void) => void }, withModel: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-first-run-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  if (withModel) {
    mkdirSync(join(dir, 'models'));
    writeFileSync(join(dir, 'models', 'tiny-script.gguf'), tinyModel({ mode: 'script', chunks: script }));
  }
  return dir;
}

/** Starts the CLI and resolves with its banner once it listens. */
async function serve(t: { after: (fn: () => Promise<void>) => void }, cwd: string, env: Record<string, string>, args: string[] = []): Promise<{ banner: string; url: string }> {
  const child: ChildProcess = spawn(process.execPath, [bin, 'serve', ...args], { cwd, env: cleanEnv({ PORT: '0', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });
  let stderr = '';
  let stdout = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 20 s:\n${stderr}`)), 20_000);
    const check = (): void => {
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
      // The log line (stdout) is written right after the banner (stderr).
      if (url !== undefined && stdout.includes('"msg":"listening"')) {
        clearTimeout(timer);
        resolvePromise({ banner: stderr, url });
      }
    };
    child.stderr!.on('data', (bytes: Buffer) => { stderr += bytes.toString(); check(); });
    child.stdout!.on('data', (bytes: Buffer) => { stdout += bytes.toString(); check(); });
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${stderr}`)));
  });
}

/** A loopback stand-in for Ollama: GET /api/tags lists two models. */
async function fakeOllama(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === '/api/tags') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ models: [{ name: 'llama3.2:1b' }, { name: 'qwen3:0.6b' }] }));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

test('no config: providers from the environment, Ollama, ./models; the banner curl works as pasted', async (t) => {
  const cwd = folder(t, true);
  const ollama = await fakeOllama(t);
  const { banner, url } = await serve(t, cwd, { OPENAI_API_KEY: 'sk-test', GROQ_API_KEY: 'gsk-test', OLLAMA_HOST: ollama });
  for (const line of ['gpt-4o-mini -> openai/gpt-4o-mini', 'llama-3.1-8b-instant -> groq/llama-3.1-8b-instant', 'llama3.2:1b -> ollama/llama3.2:1b', 'tiny-script -> local/tiny-script.gguf']) {
    assert.ok(banner.includes(line), `banner lacks "${line}":\n${banner}`);
  }
  assert.match(banner, /admin key: in data\/admin-key/);
  const adminKey = readFileSync(join(cwd, 'data', 'admin-key'), 'utf8').trim();
  assert.equal(statSync(join(cwd, 'data', 'admin-key')).mode & 0o777, 0o600);
  const admin = await fetch(`${url}/admin/keys`, { headers: { authorization: `Bearer ${adminKey}` } });
  assert.equal(admin.status, 200);
  // The embedded store lives in ./data.
  assert.ok(statSync(join(cwd, 'data', 'sluice.db')).isFile());

  // The curl line, pasted into a shell: the local model streams its answer.
  const curl = /try it:\n {4}(curl -N [^\n]+)/.exec(banner)?.[1];
  assert.ok(curl !== undefined && curl.includes('"model":"tiny-script"'), banner);
  const { stdout } = await run('sh', ['-c', curl], { timeout: 20_000 });
  const texts = stdout.split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)) as { choices: { delta: { content?: string } }[] });
  assert.equal(texts.map((c) => c.choices[0]?.delta.content ?? '').join(''), script.join(''));
  assert.match(stdout, /data: \[DONE\]/);

  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const listed = (await client.models.list()).data.map((m) => m.id);
  assert.ok(listed.includes('tiny-script') && listed.includes('qwen3:0.6b') && listed.includes('o4-mini'), listed.join(', '));
});

test('nothing found: Sluice still starts and says how to pull a model or add a provider', async (t) => {
  const cwd = folder(t, false);
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const { banner, url } = await serve(t, cwd, { OLLAMA_HOST: `127.0.0.1:${closedPort}` });
  assert.match(banner, /models: none yet/);
  assert.match(banner, /npx sluice pull Qwen\/Qwen2\.5-0\.5B-Instruct-GGUF\/qwen2\.5-0\.5b-instruct-q4_k_m\.gguf/);
  assert.match(banner, /set OPENAI_API_KEY, ANTHROPIC_API_KEY/);
  assert.match(banner, new RegExp(`note: Ollama at http://127\\.0\\.0\\.1:${closedPort} \\(OLLAMA_HOST\\) did not list its models \\(connect ECONNREFUSED`));
  assert.equal((await fetch(`${url}/health`)).status, 200);
});

test('sluice init writes a commented sluice.yaml that sluice check accepts and serve uses', async (t) => {
  const cwd = folder(t, true);
  const env = cleanEnv({ ANTHROPIC_API_KEY: 'sk-ant-test', DEEPSEEK_API_KEY: 'sk-ds' });
  const init = await run(process.execPath, [bin, 'init'], { cwd, env });
  assert.match(init.stdout, /Wrote sluice\.yaml: anthropic \(ANTHROPIC_API_KEY is set; 3 models\), deepseek .*, local \(GGUF files in \.\/models/);
  const yaml = readFileSync(join(cwd, 'sluice.yaml'), 'utf8');
  assert.match(yaml, /^# sluice\.yaml, written by `sluice init`/);
  assert.match(yaml, /api_key: \$\{ANTHROPIC_API_KEY\}/);
  assert.ok(!yaml.includes('sk-ant-test'), 'no secret in the file');
  assert.match(yaml, /kind: local\n {4}models_dir: \.\/models/);
  const check = await run(process.execPath, [bin, 'check', '--config', 'sluice.yaml'], { cwd, env });
  assert.match(check.stdout, /sluice\.yaml: OK \(3 providers, 6 models, 0 keys\)/);
  await assert.rejects(run(process.execPath, [bin, 'init'], { cwd, env }), (error: { code?: number; stderr?: string }) => error.code === 1 && /exists; pass --force/.test(error.stderr ?? ''));
  const { banner } = await serve(t, cwd, { ANTHROPIC_API_KEY: 'sk-ant-test', DEEPSEEK_API_KEY: 'sk-ds' });
  assert.match(banner, /config: sluice\.yaml/);
  assert.match(banner, /deepseek-reasoner -> deepseek\/deepseek-reasoner/);
  assert.match(banner, /tiny-script -> local\/tiny-script\.gguf/);
});
