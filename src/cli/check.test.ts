import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCheck } from './check.js';

const valid = `providers:
  openai:
    kind: openai
    base_url: https://api.openai.com/v1
    api_key: \${OPENAI_API_KEY}
  local:
    kind: openai
    base_url: http://localhost:8000/v1
models:
  gpt-5:
    routes: [openai/gpt-5]
  llama:
    routes: [local/meta-llama/Llama-3.1-8B-Instruct]
  mini:
    routes: [openai/gpt-5-mini, local/qwen]
keys:
  - name: demo
    key: \${SLUICE_DEMO_KEY}
`;

const invalid = `port: 99999
providers:
  openai:
    kind: openai
    bse_url: https://api.openai.com/v1
models:
  gpt-5:
    routes: [opnai/gpt-5]
keys:
  - name: demo
    key: \${SLUICE_DEMO_KEY}
`;

async function check(path: string, env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCheck({ configPath: path, env, stdout: (s) => out.push(s), stderr: (s) => err.push(s) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('runCheck', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-check-'));
    await writeFile(join(dir, 'sluice.yaml'), valid);
    await writeFile(join(dir, 'broken.yaml'), invalid);
    await writeFile(join(dir, 'empty.yaml'), '');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a one-line summary and exits 0 for a valid config', async () => {
    const path = join(dir, 'sluice.yaml');
    const result = await check(path, { OPENAI_API_KEY: 'sk-x', SLUICE_DEMO_KEY: 'demo-secret' });
    assert.deepEqual(result, { code: 0, stdout: `${path}: OK (2 providers, 3 models, 1 key)\n`, stderr: '' });
  });

  it('uses singular and plural counts', async () => {
    const path = join(dir, 'empty.yaml');
    assert.equal((await check(path, {})).stdout, `${path}: OK (0 providers, 0 models, 0 keys)\n`);
  });

  it('prints every problem with file, line and key path, and exits 1', async () => {
    const path = join(dir, 'broken.yaml');
    const result = await check(path, {});
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.deepEqual(result.stderr.split('\n'), [
      `${path}:1:7: port: expected an integer between 0 and 65535, got 99999`,
      `${path}:4:5: providers.openai.base_url: missing required key "base_url"`,
      `${path}:5:5: providers.openai.bse_url: unknown key "bse_url" (did you mean "base_url"?)`,
      `${path}:8:14: models.gpt-5.routes[0]: route "opnai/gpt-5" names provider "opnai", which is not defined in providers (defined: openai)`,
      `${path}:11:10: keys[0].key: \${SLUICE_DEMO_KEY} is not set (set it, or give a default: \${SLUICE_DEMO_KEY:-value})`,
      '',
    ]);
  });

  it('reports a missing file on stderr and exits 1', async () => {
    const path = join(dir, 'nope.yaml');
    assert.deepEqual(await check(path, {}), {
      code: 1,
      stdout: '',
      stderr: `${path}: cannot read the config file: it does not exist\n`,
    });
  });
});
