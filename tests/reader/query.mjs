// Usage: node query.mjs <database file> <sql>
// Opens the file read-only and prints the rows as one JSON array (bigints as strings).
import { DuckDBInstance } from '@duckdb/node-api';

const [file, sql] = process.argv.slice(2);
if (!file || !sql) {
  console.error('usage: node query.mjs <database file> <sql>');
  process.exit(2);
}
const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
const connection = await instance.connect();
const reader = await connection.runAndReadAll(sql);
const rows = reader.getRowObjectsJson();
process.stdout.write(JSON.stringify(rows));
connection.closeSync();
instance.closeSync();
