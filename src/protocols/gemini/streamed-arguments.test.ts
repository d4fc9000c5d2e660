import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamedArguments, parseJsonPath } from './streamed-arguments.js';

test('JSON paths (RFC 9535 subset)', () => {
  assert.deepEqual(parseJsonPath('$.a.b[2].c'), ['a', 'b', 2, 'c']);
  assert.deepEqual(parseJsonPath("$['key with space'][0][\"q\\\"x\"]"), ['key with space', 0, 'q"x']);
  assert.equal(parseJsonPath('$'), undefined);
  assert.equal(parseJsonPath('a.b'), undefined);
  assert.equal(parseJsonPath('$.a[x]'), undefined);
});

test('string pieces at one path are joined; nested objects and arrays are built in order', () => {
  const args = new StreamedArguments();
  assert.equal(args.apply([{ jsonPath: '$.recipe.steps[0]', stringValue: 'Boil ', willContinue: true }]), undefined);
  assert.equal(args.apply([{ jsonPath: '$.recipe.steps[0]', stringValue: 'water' }]), undefined);
  assert.equal(args.apply([{ jsonPath: '$.recipe.steps[1]', stringValue: 'Add salt' }, { jsonPath: '$.recipe.serves', numberValue: 4 }]), undefined);
  assert.equal(args.apply([{ jsonPath: '$.vegan', boolValue: true }, { jsonPath: '$.notes', nullValue: null }, { jsonPath: '$.ignored' }]), undefined);
  assert.equal(args.json(), '{"recipe":{"steps":["Boil water","Add salt"],"serves":4},"vegan":true,"notes":null}');
});

test('a __proto__ key is plain data', () => {
  const args = new StreamedArguments();
  assert.equal(args.apply([{ jsonPath: '$.__proto__.polluted', stringValue: 'yes' }]), undefined);
  assert.equal(args.json(), '{"__proto__":{"polluted":"yes"}}');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('malformed fragments are reported, not guessed', () => {
  const args = new StreamedArguments();
  assert.match(args.apply('x') ?? '', /not an array/);
  assert.match(args.apply([{ stringValue: 'x' }]) ?? '', /no jsonPath/);
  assert.match(args.apply([{ jsonPath: '$.list[1]', numberValue: 1 }]) ?? '', /skips elements/);
  assert.equal(args.apply([{ jsonPath: '$.a', numberValue: 1 }]), undefined);
  assert.match(args.apply([{ jsonPath: '$.a.b', numberValue: 2 }]) ?? '', /another type/);
  assert.match(args.apply([{ jsonPath: '$.a[0]', numberValue: 2 }]) ?? '', /another type/);
});
