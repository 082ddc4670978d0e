// check.mjs — runs SQL in DuckDB (an in-memory database, UTC) and prints
// every result row as one line: values separated by tabs, NULL as \N, text
// with \t, \n and \\ escaped. The tabular tests compare this with what they
// expect. Usage: node check.mjs "SQL" ["SQL" ...]  (a blank line between
// the results of several statements).
import { DuckDBInstance } from '@duckdb/node-api';

const esc = (s) => s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run("SET TimeZone = 'UTC'");
let first = true;
for (const sql of process.argv.slice(2)) {
  if (!first) process.stdout.write('\n');
  first = false;
  let reader;
  try {
    reader = await con.runAndReadAll(sql);
  } catch (e) {
    process.stderr.write(`duckdb: ${e.message}\n`);
    process.exit(2);
  }
  const out = [];
  for (const row of reader.getRowsJson()) {
    out.push(row.map((v) => (v === null ? '\\N' : esc(typeof v === 'string' ? v : JSON.stringify(v)))).join('\t'));
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
}
