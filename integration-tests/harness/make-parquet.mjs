#!/usr/bin/env node
// Writes the suite's Parquet fixture: flights-2k.json as a Parquet file with an
// INT64 timestamp column, like flights-3m.parquet.
//   node make-parquet.mjs ../datasets/data/flights-2k.json ../datasets/data/flights-2k.parquet
import fs from 'node:fs';
import { parquetWriteBuffer } from 'hyparquet-writer';

const [src, dst] = process.argv.slice(2);
const rows = JSON.parse(fs.readFileSync(src, 'utf8'));
const column = (name, f, type) => ({ name, data: rows.map(f), type });
const buf = parquetWriteBuffer({
  columnData: [
    column('date', (r) => new Date(r.date.replaceAll('/', '-').replace(' ', 'T') + ':00Z'), 'TIMESTAMP'),
    column('delay', (r) => BigInt(r.delay), 'INT64'),
    column('distance', (r) => BigInt(r.distance), 'INT64'),
    column('origin', (r) => r.origin, 'STRING'),
    column('destination', (r) => r.destination, 'STRING'),
  ],
});
fs.writeFileSync(dst, Buffer.from(buf));
console.log(`wrote ${rows.length} rows to ${dst}`);
