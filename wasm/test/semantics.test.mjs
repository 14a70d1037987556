// The learner's behaviour through the JavaScript API: identity before adaptation, the direction of
// adaptation, category fallback, and trajectory statistics against a plain JavaScript computation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import init, { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } from 'ruvector-learning-wasm';
import { dot, vector } from './helpers.mjs';

await init();

const difference = (a, b) => a.map((v, i) => v - b[i]);

test('a fresh adapter is the identity, at every dim and for every op_type', () => {
  for (const dim of [1, 7, 64, 256]) {
    const x = vector(dim, dim);
    const lora = new WasmMicroLoRA(dim, 0.1, 0.01);
    assert.deepEqual(lora.forward_array(x), x);
    assert.equal(lora.delta_norm(), 0);
    assert.equal(lora.param_count(), 4 * dim);
    const scoped = new WasmScopedLoRA(dim, 0.1, 0.01);
    for (let op = 0; op <= 16; op++) assert.deepEqual(scoped.forward_array(op, x), x);
  }
});

test('adapt_array(g) moves the output for the latest input along g', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const lora = new WasmMicroLoRA(32, 0.1, 0.05);
    const x = vector(32, seed);
    const g = vector(32, seed + 100, 0.2);
    const before = lora.forward_array(x);
    lora.adapt_array(g);
    lora.adapt_array(g);
    const after = lora.forward_array(x);
    assert.ok(dot(difference(after, before), g) > 0, `seed ${seed}`);
    assert.ok(lora.delta_norm() > 0);
  }
});

test('adapt_with_reward moves the output toward the input for a gain and away for a loss', () => {
  for (const [reward, sign] of [[0.5, 1], [-0.5, -1]]) {
    const lora = new WasmMicroLoRA(16, 0.1, 0.05);
    const x = vector(16, 7);
    lora.adapt_array(vector(16, 8, 0.5)); // leave the saddle point of a fresh adapter
    const before = lora.forward_array(x);
    lora.adapt_with_reward(reward);
    const after = lora.forward_array(x);
    assert.ok(sign * dot(difference(after, before), x) > 0, `reward ${reward}`);
  }
});

test('WasmScopedLoRA: a young scope borrows from its category; fallback can be switched off', () => {
  const SEQ_SCAN = 0, INDEX_SCAN = 1, HASH_JOIN = 5;
  const scoped = new WasmScopedLoRA(16, 0.5, 0.05);
  const x = vector(16, 11);
  const g = vector(16, 12, 0.5);
  scoped.forward_array(SEQ_SCAN, x);
  for (let i = 0; i < 3; i++) scoped.adapt_array(SEQ_SCAN, g);
  // IndexScan has never adapted, but shares the Scan category with SeqScan.
  const indexScan = scoped.forward_array(INDEX_SCAN, x);
  assert.equal(scoped.adapt_count(INDEX_SCAN), 0n);
  assert.ok(dot(difference(indexScan, x), g) > 0, 'the category moved IndexScan along g');
  assert.deepEqual(scoped.forward_array(HASH_JOIN, x), x, 'another category is untouched');
  scoped.set_category_fallback(false);
  assert.deepEqual(scoped.forward_array(INDEX_SCAN, x), x, 'without fallback IndexScan is its own (fresh) adapter');
  scoped.set_category_fallback(true);
  // After 10 adaptations a scope's output is its own adapter's, fallback or not.
  for (let i = 0; i < 7; i++) scoped.adapt_array(SEQ_SCAN, g);
  const withFallback = scoped.forward_array(SEQ_SCAN, x);
  scoped.set_category_fallback(false);
  assert.deepEqual(scoped.forward_array(SEQ_SCAN, x), withFallback);
  // reset_scope forgets the scope but not its category.
  scoped.set_category_fallback(true);
  scoped.reset_scope(SEQ_SCAN);
  assert.equal(scoped.adapt_count(SEQ_SCAN), 0n);
  assert.equal(scoped.delta_norm(SEQ_SCAN), 0);
  assert.notDeepEqual(scoped.forward_array(SEQ_SCAN, x), x);
  assert.equal(scoped.total_adapt_count(), 10n, 'totals count until reset_all');
});

test('WasmTrajectoryBuffer: statistics match a plain JavaScript computation, across ring wrap-around', () => {
  const capacity = 7;
  const buffer = new WasmTrajectoryBuffer(capacity, 4);
  const records = [];
  let s = 12345;
  const random = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 25; i++) {
    const op = Math.floor(random() * 17);
    const attention = Math.floor(random() * 5);
    const execution = i === 3 ? 0 : 1 + random() * 200;
    const baseline = 1 + random() * 200;
    buffer.record(vector(4, i), op, attention, execution, baseline);
    records.push({ op, attention, improvement: execution === 0 ? 0 : baseline / execution - 1 });
  }
  const n = records.length;
  const values = records.map((r) => r.improvement);
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  let best = records[0];
  for (const r of records) if (r.improvement > best.improvement) best = r;
  const buffered = records.slice(-capacity);
  const quality = (r) => Math.min(1, Math.max(0, (r.improvement + 1) / 2));

  assert.equal(buffer.total_count(), BigInt(n));
  assert.equal(buffer.len(), capacity);
  assert.equal(buffer.is_empty(), false);
  assert.ok(Math.abs(buffer.mean_improvement() - mean) <= 1e-12 * Math.max(1, Math.abs(mean)));
  assert.ok(Math.abs(buffer.variance() - variance) <= 1e-9 * Math.max(1, variance));
  assert.equal(buffer.success_rate(), values.filter((v) => v > 0).length / n);
  assert.equal(buffer.best_improvement(), best.improvement);
  assert.equal(buffer.best_attention(), best.attention);
  for (let op = 0; op <= 16; op++) {
    assert.equal(buffer.count_by_operator(op), buffered.filter((r) => r.op === op).length, `op ${op}`);
  }
  for (const threshold of [-1, 0, 0.25, 0.5, 0.75, 1]) {
    assert.equal(buffer.high_quality_count(threshold), buffered.filter((r) => quality(r) > threshold).length);
  }
});

test('WasmTrajectoryBuffer: empty and single-record statistics', () => {
  const buffer = new WasmTrajectoryBuffer(3, 2);
  assert.deepEqual(
    [buffer.total_count(), buffer.len(), buffer.is_empty(), buffer.mean_improvement(), buffer.variance(),
      buffer.success_rate(), buffer.best_improvement(), buffer.best_attention()],
    [0n, 0, true, 0, 0, 0, 0, 0],
  );
  buffer.record(new Float32Array(2), 4, 9, 200, 100);
  assert.equal(buffer.mean_improvement(), -0.5);
  assert.equal(buffer.best_improvement(), -0.5);
  assert.equal(buffer.best_attention(), 9);
  assert.equal(buffer.success_rate(), 0);
  assert.equal(buffer.variance(), 0);
});
