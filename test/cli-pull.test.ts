/**
 * `sluice pull` against a loopback server that plays Hugging Face (a /resolve/ URL redirecting to a
 * "CDN" with X-Linked-Etag/-Size on the hub's answer) and serves a generated model: progress
 * output, resume after a cut, checksum mismatch, and the offline message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPull } from '../src/cli/pull.js';
import { resolvePullSource } from '../src/cli/pull-source.js';
import { tinyModel } from './support/gguf/tiny-model.js';

const model = tinyModel({ mode: 'random', seed: 3 });
const sha = createHash('sha256').update(model).digest('hex');

interface Hub {
  url: string;
  /** Each CDN request's Range header ('' for none). */
  ranges: string[];
  authorizations: (string | undefined)[];
}

interface HubOptions {
  /** Sent as the hub's X-Linked-Etag. */
  linkedSha?: string;
  /** The first CDN answer stops after this many bytes and the connection is cut. */
  cutAfter?: number;
  /** The body goes out in this many pieces, 250 ms apart. */
  pieces?: number;
}

async function startHub(t: { after: (fn: () => Promise<void> | void) => void }, options: HubOptions = {}): Promise<Hub> {
  const hub: Hub = { url: '', ranges: [], authorizations: [] };
  let cdnRequests = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    hub.authorizations.push(req.headers.authorization);
    if (req.url === '/tiny/models/resolve/main/tiny.gguf') {
      // The CDN on another origin (localhost, not 127.0.0.1), as Hugging Face's is.
      res.writeHead(302, { location: `http://localhost:${(server.address() as { port: number }).port}/cdn/tiny.gguf`, 'x-linked-etag': `"${options.linkedSha ?? sha}"`, 'x-linked-size': String(model.length) });
      res.end();
      return;
    }
    if (req.url !== '/cdn/tiny.gguf') {
      res.writeHead(404).end('not found');
      return;
    }
    cdnRequests++;
    const range = req.headers.range ?? '';
    hub.ranges.push(range);
    const from = range === '' ? 0 : Number(/^bytes=(\d+)-$/.exec(range)?.[1]);
    if (from >= model.length) {
      res.writeHead(416, { 'content-range': `bytes */${model.length}` }).end();
      return;
    }
    const body = model.subarray(from);
    res.writeHead(range === '' ? 200 : 206, {
      'content-length': String(body.length),
      ...(range === '' ? {} : { 'content-range': `bytes ${from}-${model.length - 1}/${model.length}` }),
    });
    if (options.cutAfter !== undefined && cdnRequests === 1) {
      res.write(body.subarray(0, options.cutAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    const pieces = options.pieces ?? 1;
    const size = Math.ceil(body.length / pieces);
    let sent = 0;
    const next = (): void => {
      res.write(body.subarray(sent, sent + size));
      sent += size;
      if (sent >= body.length) res.end();
      else setTimeout(next, 250);
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const address = server.address();
  hub.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  return hub;
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pull-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function pull(hub: string, dir: string, extra: string[] = [], env: Record<string, string> = {}): Promise<{ code: number; messages: string[]; progress: string }> {
  const messages: string[] = [];
  let progress = '';
  const code = await runPull({
    argv: ['tiny/models/tiny.gguf', '--dir', dir, ...extra],
    env: { HF_ENDPOINT: hub, ...env },
    stderr: (line) => messages.push(line),
    progress: { write: (text) => { progress += text; }, isTTY: false },
  });
  return { code, messages, progress };
}

test('pulls a Hugging Face file through its redirect, shows progress, verifies the linked SHA-256', async (t) => {
  const hub = await startHub(t, { pieces: 6 });
  const dir = tempDir(t);
  const result = await pull(hub.url, dir, [], { HF_TOKEN: 'hf_secret' });
  assert.equal(result.code, 0, result.messages.join('\n'));
  assert.deepEqual(readFileSync(join(dir, 'tiny.gguf')), model);
  assert.equal(existsSync(join(dir, 'tiny.gguf.part')), false);
  assert.match(result.messages.join('\n'), new RegExp(`sha256 ${sha} verified`));
  // Progress lines while it runs (one a second in a log: the body takes ~1.25 s), then a final one.
  const lines = result.progress.trim().split('\n');
  assert.ok(lines.length >= 2, result.progress);
  assert.match(lines[0]!, /^ *\d+% [\d.]+ KiB \/ [\d.]+ KiB {2}[\d.]+ [KM]iB\/s {2}ETA [\d.]+s$/);
  assert.match(lines.at(-1)!, /^100% [\d.]+ KiB \/ [\d.]+ KiB {2}[\d.]+ [KM]?i?B\/s {2}in [\d.]+s$/);
  // The token went to the hub, not to where it redirected.
  assert.deepEqual(hub.authorizations, ['Bearer hf_secret', undefined]);
  // A second pull leaves the file alone.
  const again = await pull(hub.url, dir);
  assert.equal(again.code, 0);
  assert.match(again.messages.join('\n'), /already there/);
});

test('a cut download resumes with a range request and ends verified', async (t) => {
  const hub = await startHub(t, { cutAfter: 200_000 });
  const dir = tempDir(t);
  const first = await pull(hub.url, dir);
  assert.equal(first.code, 1);
  assert.match(first.messages.join('\n'), /run the command again to resume/);
  // What arrived before the cut (200,000 bytes were sent; a busy machine may lose the tail).
  const kept = statSync(join(dir, 'tiny.gguf.part')).size;
  assert.ok(kept > 0 && kept <= 200_000, `part of ${kept} bytes`);
  const second = await pull(hub.url, dir);
  assert.equal(second.code, 0, second.messages.join('\n'));
  assert.deepEqual(hub.ranges, ['', `bytes=${kept}-`]);
  assert.match(second.progress, /^Resuming at [\d.]+ KiB of [\d.]+ KiB/);
  assert.deepEqual(readFileSync(join(dir, 'tiny.gguf')), model);
  assert.match(second.messages.join('\n'), /verified/);
});

test('a checksum mismatch fails, keeps no file and no part to resume', async (t) => {
  const hub = await startHub(t, { linkedSha: 'ab'.repeat(32) });
  const dir = tempDir(t);
  const result = await pull(hub.url, dir);
  assert.equal(result.code, 1);
  assert.match(result.messages.join('\n'), new RegExp(`checksum mismatch: expected sha256 ${'ab'.repeat(32)}, got ${sha}`));
  assert.equal(existsSync(join(dir, 'tiny.gguf')), false);
  assert.equal(existsSync(join(dir, 'tiny.gguf.part')), false);
  // --sha256 is checked the same way.
  const hub2 = await startHub(t);
  const wrong = await pull(hub2.url, dir, ['--sha256', 'cd'.repeat(32)]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.messages.join('\n'), /checksum mismatch/);
});

test('a part that is already whole is verified and kept; a part longer than the file is deleted', async (t) => {
  const hub = await startHub(t);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'tiny.gguf.part'), model);
  const whole = await pull(hub.url, dir);
  assert.equal(whole.code, 0, whole.messages.join('\n'));
  assert.deepEqual(readFileSync(join(dir, 'tiny.gguf')), model);
  rmSync(join(dir, 'tiny.gguf'));
  writeFileSync(join(dir, 'tiny.gguf.part'), Buffer.concat([model, Buffer.from('stale tail')]));
  const tooLong = await pull(hub.url, dir);
  assert.equal(tooLong.code, 1);
  assert.match(tooLong.messages.join('\n'), new RegExp(`has ${model.length} bytes, the partial download ${model.length + 10}: it was deleted`));
  assert.equal(existsSync(join(dir, 'tiny.gguf.part')), false);
  const again = await pull(hub.url, dir);
  assert.equal(again.code, 0);
  assert.deepEqual(readFileSync(join(dir, 'tiny.gguf')), model);
});

test('HF_TOKEN goes to the hub origin only, not to a URL elsewhere', async (t) => {
  const hub = await startHub(t);
  const dir = tempDir(t);
  // The same server under another origin (localhost vs 127.0.0.1): a host that is not the hub.
  const code = await runPull({
    argv: [`${hub.url}/cdn/tiny.gguf`, '--dir', dir],
    env: { HF_ENDPOINT: hub.url.replace('127.0.0.1', 'localhost'), HF_TOKEN: 'hf_secret' },
    stderr: () => {},
    progress: { write: () => {}, isTTY: false },
  });
  assert.equal(code, 0);
  assert.deepEqual(hub.authorizations, [undefined]);
});

test('offline: the message names the URL and where to put the file by hand', async (t) => {
  const dir = tempDir(t);
  // A port nobody listens on: take one, then free it.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const result = await pull(`http://127.0.0.1:${port}`, dir);
  assert.equal(result.code, 1);
  const message = result.messages.join('\n');
  assert.match(message, new RegExp(`cannot download http://127\\.0\\.0\\.1:${port}/tiny/models/resolve/main/tiny\\.gguf`));
  assert.match(message, new RegExp(`copy it to ${join(dir, 'tiny.gguf').replaceAll('.', '\\.')}`));
});

test('sources: Hugging Face paths, revisions and URLs', () => {
  assert.deepEqual(resolvePullSource('Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf'), {
    url: 'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_k_m.gguf',
    fileName: 'qwen2.5-0.5b-instruct-q4_k_m.gguf',
  });
  assert.equal(resolvePullSource('a/b@v1.0/sub/dir/m.gguf', 'http://mirror/').url, 'http://mirror/a/b/resolve/v1.0/sub/dir/m.gguf');
  assert.deepEqual(resolvePullSource('https://example.com/files/m%20x.gguf?download=1'), { url: 'https://example.com/files/m%20x.gguf?download=1', fileName: 'm x.gguf' });
  assert.throws(() => resolvePullSource('just-a-name.gguf'), /expected <owner>\/<repo>\/<file>\.gguf/);
  assert.throws(() => resolvePullSource('a/b/../../etc.gguf'), /bad file path/);
  assert.throws(() => resolvePullSource('https://example.com/model.bin'), /must name a \.gguf file/);
  assert.throws(() => resolvePullSource('https://example.com/a/..%2F..%2F.config%2Fx.gguf'), /not a plain file name/);
  assert.throws(() => resolvePullSource('https://example.com/a/..%5Cx.gguf'), /not a plain file name/);
});
