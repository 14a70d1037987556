// The seed README's WasmScopedLoRA example, run as written, with assertions on what it does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printed } from './console-capture.mjs';

// ---- README: WasmScopedLoRA (verbatim from here) ----
import init, { WasmScopedLoRA } from 'ruvector-learning-wasm';

await init();
// ---- (the rest of the example is below, inside the test) ----

test('README: the WasmScopedLoRA example runs and prints the expected statistics', async () => {
  let scoped, out, inp;
  const logs = await printed(() => {
    const scopedLora = new WasmScopedLoRA(

    256, // dim

    0.1, // alpha

    0.01 // learning_rate

    );

    // Operator types (0-16)

    const HNSW_SCAN = 2;

    const HASH_JOIN = 5;

    const FILTER = 9;

    // Forward for specific operator

    const input = new Float32Array(256).fill(1.0);

    const output = scopedLora.forward_array(HNSW_SCAN, input);

    // Adapt for specific operator

    const gradient = new Float32Array(256).fill(0.1);

    scopedLora.adapt_array(FILTER, gradient);

    // Per-operator statistics

    console.log('HNSW forward count:', scopedLora.forward_count(HNSW_SCAN));

    console.log('Filter adapt count:', scopedLora.adapt_count(FILTER));

    console.log('Filter delta norm:', scopedLora.delta_norm(FILTER));

    // Total statistics

    console.log('Total forwards:', scopedLora.total_forward_count());

    console.log('Total adapts:', scopedLora.total_adapt_count());

    // Get operator name

    console.log(WasmScopedLoRA.scope_name(HNSW_SCAN)); // "HnswScan"

    // Enable/disable category fallback (default: enabled)

    scopedLora.set_category_fallback(true);

    // Reset specific operator or all

    scopedLora.reset_scope(FILTER);

    console.log('Filter adapt count after reset_scope:', scopedLora.adapt_count(FILTER));

    scopedLora.reset_all();

    void HASH_JOIN;
    scoped = scopedLora;
    out = output;
    inp = input;
  });
  assert.deepEqual(out, inp, 'a fresh scope is the identity');
  assert.equal(logs.get('HNSW forward count:'), 1n);
  assert.equal(logs.get('Filter adapt count:'), 1n);
  assert.ok(logs.get('Filter delta norm:') > 0);
  assert.equal(logs.get('Total forwards:'), 1n);
  assert.equal(logs.get('Total adapts:'), 1n);
  assert.equal(logs.get('#5'), 'HnswScan');
  assert.equal(logs.get('Filter adapt count after reset_scope:'), 0n);
  assert.equal(scoped.total_forward_count(), 0n);
  assert.equal(scoped.total_adapt_count(), 0n);
  assert.equal(scoped.forward_count(2), 0n);
});

test('README: the operator table names every op_type', () => {
  const table = ['SeqScan', 'IndexScan', 'HnswScan', 'IvfFlatScan', 'NestedLoopJoin', 'HashJoin', 'MergeJoin',
    'Aggregate', 'GroupBy', 'Filter', 'Project', 'Sort', 'Limit', 'VectorDistance', 'Rerank', 'Materialize', 'Result'];
  assert.deepEqual(table.map((_, op) => WasmScopedLoRA.scope_name(op)), table);
});
