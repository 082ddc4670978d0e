// bench/duckdb_revenue.mjs — runs bench/revenue.sql in DuckDB (npm
// @duckdb/node-api, an in-memory database) on one hit-data file and writes
// the Search Keyword Performance report: the header line, then one
// tab-separated row per (domain, keyword) as the SQL's last statement
// returns them.
//
//   node duckdb_revenue.mjs SQLFILE INPUT OUTFILE
//
// @INPUT@ in the SQL is replaced by INPUT as an SQL string literal.
// Statements are separated by a ';' at the end of a line; lines that
// start with '--' are comments. DuckDB uses every core (its default).
import { readFileSync, writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const [sqlFile, input, outFile] = process.argv.slice(2);
if (!outFile) {
  process.stderr.write('usage: node duckdb_revenue.mjs SQLFILE INPUT OUTFILE\n');
  process.exit(2);
}
const literal = "'" + input.replace(/'/g, "''") + "'";
const text = readFileSync(sqlFile, 'utf8')
  .split('\n')
  .filter((l) => !/^\s*--/.test(l))
  .join('\n')
  .replaceAll('@INPUT@', literal);
const statements = text.split(/;[ \t]*(?:\n|$)/).map((s) => s.trim()).filter((s) => s);

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
let reader;
for (const sql of statements) {
  try {
    reader = await con.runAndReadAll(sql);
  } catch (e) {
    process.stderr.write(`duckdb_revenue: ${e.message}\n`);
    process.exit(1);
  }
}
const lines = ['Search Engine Domain\tSearch Keyword\tRevenue'];
for (const row of reader.getRows()) lines.push(row.map((v) => String(v)).join('\t'));
writeFileSync(outFile, lines.join('\n') + '\n');
