/**
 * The dependency direction of src/ (shared/design/architecture.md): core <- sse <- protocols <-
 * providers, storage <- gateway <- server <- cli (runtime: process-wide settings, beside core). A module may import only from its own layer or below; only
 * src/server serves HTTP, and only src/providers (clients) and src/server touch Node's HTTP API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const src = resolve(import.meta.dirname, '..', 'src');
const rank: Record<string, number> = {
  core: 0, observability: 0, runtime: 0, sse: 1, protocols: 2, config: 2, providers: 3, storage: 3, limits: 3, gateway: 4, server: 5, cli: 6,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

function layerOf(path: string): string {
  return relative(src, path).split('/')[0] ?? '';
}

test('every src folder has a layer', () => {
  for (const name of readdirSync(src)) assert.ok(name in rank, `src/${name} has no place in the layering`);
});

test('imports point inwards only', () => {
  const violations: string[] = [];
  for (const file of sourceFiles(src)) {
    const from = layerOf(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
      const spec = match[1] ?? '';
      if (spec.startsWith('.')) {
        const to = layerOf(resolve(dirname(file), spec));
        if ((rank[to] ?? 99) > (rank[from] ?? -1)) violations.push(`${relative(src, file)} imports ${spec} (${from} -> ${to})`);
      } else if ((spec === 'node:http' || spec === 'node:https') && from !== 'server' && from !== 'providers') {
        const typeOnly = /^\s*import\s+type\b/.test(match[0]);
        if (!typeOnly) violations.push(`${relative(src, file)} uses ${spec}: only src/server and src/providers speak HTTP`);
      }
    }
    if (from !== 'server' && /\bcreateServer\s*\(/.test(text)) violations.push(`${relative(src, file)} creates a server: only src/server serves HTTP`);
  }
  assert.deepEqual(violations, []);
});

test('node-llama-cpp (an optional dependency) is imported only lazily, by the local provider', () => {
  const violations: string[] = [];
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^\s*import\s+(type\s+)?[^'"]*from\s+['"]node-llama-cpp['"]/gm)) {
      if (match[1] === undefined) violations.push(`${relative(src, file)}: a static import runs at start-up and fails without the package`);
    }
    if (/import\(\s*['"]node-llama-cpp['"]\s*\)/.test(text) && !relative(src, file).startsWith('providers/local/')) {
      violations.push(`${relative(src, file)} loads node-llama-cpp outside src/providers/local`);
    }
  }
  assert.deepEqual(violations, []);
});
