/**
 * Child process for the hard-crash test: appends rows through a LedgerWriter on a SQLite store,
 * then dies without close() — `exit` (process.exit) or `kill` (SIGKILL to itself). The last rows
 * are appended in one synchronous burst, so they cannot have reached the database.
 *
 * argv: <journal dir> <sqlite path> <rows> <exit|kill>
 */
import { LedgerWriter } from '../ledger-writer.js';
import { openStore } from '../open-store.js';
import { usageRows } from './fixtures.js';

const [dir = '', dbPath = '', countArg = '0', mode = 'exit'] = process.argv.slice(2);
const count = Number(countArg);
const store = await openStore(`sqlite:${dbPath}`);
const writer = new LedgerWriter(store.ledger, dir, { flushIntervalMs: 5, batchSize: 50 });
const rows = usageRows('crash', count);
const burst = Math.floor(count / 4);
for (const [i, row] of rows.entries()) {
  writer.append(row);
  // Let the flusher store some rows first, so recovery meets rows already in the database.
  if (i < count - burst && i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
}
process.stdout.write(`${JSON.stringify(writer.stats())}\n`);
if (mode === 'kill') process.kill(process.pid, 'SIGKILL');
else process.exit(0);
