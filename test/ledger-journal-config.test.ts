/**
 * `ledger_journal:` gives an instance its own journal folder: two instances sharing one store
 * from one working folder would otherwise compete for the default folder's lock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFor, startSluice } from './support/sluice.js';

test('two instances on one SQLite file: the default journal folder is refused to the second, ledger_journal: lets both run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-journal-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = `store: sqlite:${join(dir, 'sluice.db')}\n`;
  const upstream = 'http://127.0.0.1:9/v1';
  const first = await startSluice(configFor([upstream], store));
  t.after(() => first.close(0));
  assert.ok(existsSync(join(dir, 'ledger-journal', 'journal.lock')), 'the default folder sits beside the SQLite file');
  await assert.rejects(startSluice(configFor([upstream], store)), /already used by another writer|in use by process .*ledger_journal/);
  const own = join(dir, 'journal-b');
  const second = await startSluice(configFor([upstream], `${store}ledger_journal: ${own}\n`));
  t.after(() => second.close(0));
  assert.ok(existsSync(join(own, 'journal.lock')));
});
