// The npm package's side of moving learned state between PostgreSQL and JavaScript, run by
// tests/pg/run.sh: loads the adapters that microlora.export_state() returned, reports what they
// hold, adapts one scope once and saves them for microlora.import_state().
//
//   node tests/pg/state_exchange.mjs <exported.b64> <scope id to adapt> <imported.b64>
//
// Prints one JSON object: the adapt count of every scope as loaded ({ name, adapt_count } per
// scope id), the dimension, and the adapted scope's count after adapting. The checks (do these
// equal what operator_stats says?) are made by run.sh. Needs the package built by wasm/build.sh.
import { readFileSync, writeFileSync } from 'node:fs';
import init, { WasmScopedLoRA } from '../../wasm/pkg/node.js';

const [exportedFile, adaptScope, importFile] = process.argv.slice(2);
if (!importFile) {
  console.error('usage: node state_exchange.mjs <exported.b64> <scope id to adapt> <imported.b64>');
  process.exit(2);
}

await init();
const bytes = Buffer.from(readFileSync(exportedFile, 'utf8').trim(), 'base64');
const adapters = WasmScopedLoRA.from_bytes(bytes);
const scopes = Array.from({ length: 17 }, (_, op) => ({
  name: WasmScopedLoRA.scope_name(op),
  adapt_count: Number(adapters.adapt_count(op)),
}));

// One gradient step on the chosen scope, as the package's users adapt: a dim-long gradient.
const op = Number(adaptScope);
const dim = adapters.dim();
adapters.adapt_array(op, Float32Array.from({ length: dim }, (_, i) => 0.01 * Math.sin(i + 1)));
writeFileSync(importFile, Buffer.from(adapters.to_bytes()).toString('base64'));

console.log(JSON.stringify({
  dim,
  scopes,
  adapted: { op, name: WasmScopedLoRA.scope_name(op), adapt_count: Number(adapters.adapt_count(op)) },
}));
