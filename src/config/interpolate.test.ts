import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineCounter, parseDocument } from 'yaml';
import { interpolateDocument, interpolateString } from './interpolate.js';

describe('interpolateString', () => {
  const env = { HOME: '/root', EMPTY: '', DOLLAR: '${NOT_AGAIN}' };

  it('substitutes set variables and keeps surrounding text', () => {
    assert.deepEqual(interpolateString('dir=${HOME}/x', env), { value: 'dir=/root/x', problems: [] });
  });

  it('uses the default when the variable is unset or empty, like a shell', () => {
    assert.equal(interpolateString('${MISSING:-fallback}', env).value, 'fallback');
    assert.equal(interpolateString('${EMPTY:-fallback}', env).value, 'fallback');
    assert.equal(interpolateString('${HOME:-fallback}', env).value, '/root');
    assert.equal(interpolateString('${MISSING:-}', env).value, '');
    assert.equal(interpolateString('${MISSING:-a:b/c}', env).value, 'a:b/c');
  });

  it('keeps an empty variable without a default as empty', () => {
    assert.deepEqual(interpolateString('[${EMPTY}]', env), { value: '[]', problems: [] });
  });

  it('turns $${ into a literal ${ and leaves lone dollars alone', () => {
    assert.equal(interpolateString('$${HOME}', env).value, '${HOME}');
    assert.equal(interpolateString('cost: $5, $$ and $HOME', env).value, 'cost: $5, $$ and $HOME');
  });

  it('does not rescan substituted text', () => {
    assert.equal(interpolateString('${DOLLAR}', env).value, '${NOT_AGAIN}');
  });

  it('reports unset variables, malformed and unterminated references', () => {
    assert.deepEqual(
      interpolateString('${A} ${1BAD} ${B:-${C}} ${OPEN', {}).problems.map((p) => p.reference),
      ['${A}', '${1BAD}', '${B:-${C}', '${OPEN'],
    );
    assert.match(interpolateString('${OPENAI_API_KEY}', {}).problems[0]?.message ?? '', /^\$\{OPENAI_API_KEY\} is not set/);
  });
});

function interpolate(text: string, env: Record<string, string | undefined>) {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const problems = interpolateDocument(doc, env, text).map((p) => ({
    ...lineCounter.linePos(p.offset),
    path: p.path.join('.'),
    message: p.message,
  }));
  return { data: doc.toJS() as unknown, problems };
}

describe('interpolateDocument', () => {
  it('interpolates values in maps, lists and block scalars but never keys', () => {
    const { data, problems } = interpolate(
      ['${KEY}: ${VALUE}', 'list: [a, "${VALUE}"]', 'block: |', '  line ${VALUE}', 'nested: {"${KEY}": x}'].join('\n'),
      { KEY: 'k', VALUE: 'v' },
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(data, { '${KEY}': 'v', list: ['a', 'v'], block: 'line v\n', nested: { '${KEY}': 'x' } });
  });

  it('types an unquoted substitution as YAML would, but keeps quoted ones strings', () => {
    const { data } = interpolate('port: ${PORT}\nflag: ${FLAG}\nquoted: "${PORT}"\nmixed: p${PORT}\n', {
      PORT: '8080',
      FLAG: 'false',
    });
    assert.deepEqual(data, { port: 8080, flag: false, quoted: '8080', mixed: 'p8080' });
  });

  it('reports an unset variable at its own line, column and path', () => {
    const { problems } = interpolate(
      ['providers:', '  openai:', '    api_key: "Bearer ${OPENAI_API_KEY}"', 'keys:', '  - key: ${A}-${B}'].join('\n'),
      { A: 'x' },
    );
    assert.deepEqual(
      problems.map((p) => [p.line, p.col, p.path, p.message.split(' (')[0]]),
      [
        [3, 22, 'providers.openai.api_key', '${OPENAI_API_KEY} is not set'],
        [5, 15, 'keys.0.key', '${B} is not set'],
      ],
    );
  });
});
