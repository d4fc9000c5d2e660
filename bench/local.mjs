#!/usr/bin/env node
// Local models: tokens/s and time to first token through Sluice vs node-llama-cpp called directly.
//
//   npm run build && node --import tsx bench/local.mjs [--tokens=256] [--runs=5] [--model=FILE.gguf] [--pin]
//   (--pin: run it under `taskset -c 0`; Sluice then runs on CPU 1)
//
// Without --model it generates a tiny random llama model (test/support/gguf, ~0.5 MB): the model
// itself costs almost nothing per token, so what Sluice adds per token shows at its largest.
// Direct: LlamaChat.generateResponse in this process (1 thread, 1 sequence, greedy). Through
// Sluice: `node bin/sluice.js serve` with a `kind: local` provider (same threads and context), one
// streamed Chat Completions request at a time over loopback, timed by this client; the two sides
// alternate run by run. Each run asks
// for exactly --tokens tokens (max_tokens; the random model never stops early).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { getLlama, LlamaChat, resolveChatWrapper } from 'node-llama-cpp';
import { tinyModel } from '../test/support/gguf/tiny-model.ts';

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const tokens = Number(arg('tokens', '256'));
const runs = Number(arg('runs', '5'));
const pin = process.argv.includes('--pin');
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-local-'));
const given = arg('model', undefined);
const file = given === undefined ? 'tiny-random.gguf' : basename(given);
if (given === undefined) writeFileSync(join(dir, file), tinyModel({ mode: 'random', seed: 11 }));
else copyFileSync(given, join(dir, file));
const messages = [{ role: 'user', content: 'Tell me a long story about a lighthouse.' }];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** node-llama-cpp in this process; returns one timed run. */
async function direct() {
  const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, maxThreads: 1 });
  const model = await llama.loadModel({ modelPath: join(dir, file) });
  const context = await model.createContext({ contextSize: 2048, sequences: 1, threads: 1 });
  const sequence = context.getSequence();
  const chatWrapper = resolveChatWrapper(model);
  return async () => {
    const chat = new LlamaChat({ contextSequence: sequence, chatWrapper });
    const start = performance.now();
    let first;
    let count = 0;
    await chat.generateResponse([{ type: 'user', text: messages[0].content }], {
      maxTokens: tokens, temperature: 0,
      onTextChunk: (text) => { if (text !== '' && first === undefined) first = performance.now(); },
      onToken: (t) => { count += t.length; },
    });
    const end = performance.now();
    chat.dispose();
    return { ttft: first - start, tps: count / ((end - start) / 1000), count };
  };
}

/** Sluice in its own process; returns one timed run and a stop function. */
async function throughSluice() {
  const config = join(dir, 'sluice.yaml');
  writeFileSync(config, `host: 127.0.0.1\nport: 0\nlog_level: warn\nstore: memory\nproviders:\n  local:\n    kind: local\n    models_dir: ${dir}\n    threads: 1\n    sequences: 1\n    context_size: 2048\n    gpu: false\nmodels:\n  m:\n    routes: [local/${file}]\n`);
  // --pin: Sluice (with its model) on CPU 1, this process (direct model and client) on CPU 0.
  // --node-flags="...": extra node flags for Sluice's process (e.g. to try V8 heap settings).
  const nodeFlags = (arg('node-flags', '') ?? '').split(' ').filter((f) => f !== '');
  const [cmd, args] = pin ? ['taskset', ['-c', '1', process.execPath, ...nodeFlags]] : [process.execPath, nodeFlags];
  const child = spawn(cmd, [...args, 'bin/sluice.js', 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
  const url = await new Promise((resolve, reject) => {
    let text = '';
    child.stderr.on('data', (b) => { text += b; const m = /listening on (\S+)/.exec(text); if (m) resolve(m[1]); });
    child.once('exit', (code) => reject(new Error(`sluice exited ${code}: ${text}`)));
  });
  const once = async () => {
      const start = performance.now();
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages, max_tokens: tokens, temperature: 0, stream: true, stream_options: { include_usage: true } }),
      });
      let first;
      let count = 0;
      let buffered = '';
      const decoder = new TextDecoder();
      for await (const bytes of response.body) {
        buffered += decoder.decode(bytes, { stream: true });
        let at;
        while ((at = buffered.indexOf('\n\n')) !== -1) {
          const frame = buffered.slice(0, at);
          buffered = buffered.slice(at + 2);
          if (!frame.startsWith('data: {')) continue;
          const chunk = JSON.parse(frame.slice(6));
          if (first === undefined && chunk.choices?.[0]?.delta?.content) first = performance.now();
          if (chunk.usage) count = chunk.usage.completion_tokens;
        }
      }
      const end = performance.now();
      return { ttft: first - start, tps: count / ((end - start) / 1000), count };
  };
  return { once, stop: () => child.kill('SIGTERM') };
}

try {
  const directRun = await direct();
  const sluice = await throughSluice();
  const a = [];
  const b = [];
  try {
    // One warm-up each, then alternating, so a slow moment of the machine hits both sides.
    await directRun();
    await sluice.once();
    for (let i = 0; i < runs; i++) {
      a.push(await directRun());
      b.push(await sluice.once());
    }
  } finally {
    sluice.stop();
  }
  const row = (name, r) => `${name.padEnd(22)} ${median(r.map((x) => x.ttft)).toFixed(2).padStart(9)} ms ${median(r.map((x) => x.tps)).toFixed(0).padStart(9)} tok/s   tokens ${r[0].count}`;
  console.log(`model ${file}, ${tokens} tokens per request, ${runs} runs each (medians), 1 thread, 1 sequence, greedy`);
  console.log(`${''.padEnd(22)} ${'TTFT'.padStart(12)} ${'throughput'.padStart(15)}`);
  console.log(row('node-llama-cpp direct', a));
  console.log(row('through Sluice', b));
  console.log(`ratio: throughput ${(median(b.map((x) => x.tps)) / median(a.map((x) => x.tps))).toFixed(2)}x, added TTFT ${(median(b.map((x) => x.ttft)) - median(a.map((x) => x.ttft))).toFixed(2)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
