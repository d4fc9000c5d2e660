import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../config/load-config.js';
import { detect, ollamaOrigin } from './detect.js';
import { renderConfig } from './init-config.js';

test('OLLAMA_HOST forms: host:port, URL, bind address, bare host', () => {
  assert.equal(ollamaOrigin('127.0.0.1:11500'), 'http://127.0.0.1:11500');
  assert.equal(ollamaOrigin('http://gpu-box:11434'), 'http://gpu-box:11434');
  assert.equal(ollamaOrigin('0.0.0.0'), 'http://127.0.0.1:11434');
  assert.equal(ollamaOrigin('ollama.internal'), 'http://ollama.internal:11434');
});

test('an OLLAMA_HOST that is no host becomes a note, not a failed start', async () => {
  const found = await detect({ env: { OLLAMA_HOST: 'http://[bad' }, modelsDir: '/nonexistent' });
  assert.deepEqual(found.providers, []);
  assert.match(found.notes.join('\n'), /OLLAMA_HOST="http:\/\/\[bad" is not a host:port or URL/);
});

test('the rendered config parses; odd file names stay literal; a model name two providers share is kept apart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-detect-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a${X}.gguf'), '');
  writeFileSync(join(dir, 'm "quoted".gguf'), '');
  writeFileSync(join(dir, 'notes.txt'), '');
  const found = await detect({ env: { OPENAI_API_KEY: 'sk-1', OPENROUTER_API_KEY: 'sk-2' }, modelsDir: dir });
  assert.deepEqual(found.providers.map((p) => p.name), ['openai', 'openrouter', 'local']);
  const config = parseConfigText(renderConfig(found, dir), 'sluice.yaml', { OPENAI_API_KEY: 'sk-1', OPENROUTER_API_KEY: 'sk-2' });
  assert.deepEqual(config.models['a${X}']?.routes, ['local/a${X}.gguf']);
  assert.deepEqual(config.models['m "quoted"']?.routes, ['local/m "quoted".gguf']);
  assert.deepEqual(config.models['openrouter/auto']?.routes, ['openrouter/openrouter/auto']);
  const openai = config.providers.openai;
  assert.ok(openai?.kind === 'openai');
  assert.equal(openai.api_key, 'sk-1');
});
