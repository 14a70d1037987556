// to_bytes/from_bytes: exact round trips, and damaged bytes refused with an Error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import init, { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } from 'ruvector-learning-wasm';
import { vector } from './helpers.mjs';

await init();

function trainedLoRA(dim) {
  const lora = new WasmMicroLoRA(dim, 0.2, 0.03);
  lora.forward_array(vector(dim, 1));
  lora.adapt_array(vector(dim, 2, 0.4));
  lora.adapt_with_reward(0.3);
  lora.forward_array(vector(dim, 3));
  return lora;
}

function trainedScoped(dim) {
  const scoped = new WasmScopedLoRA(dim, 0.2, 0.03);
  for (const op of [0, 2, 5, 9, 16]) {
    scoped.forward_array(op, vector(dim, op));
    scoped.adapt_array(op, vector(dim, op + 50, 0.3));
  }
  scoped.set_category_fallback(false);
  return scoped;
}

function filledBuffer(dim) {
  const buffer = new WasmTrajectoryBuffer(5, dim);
  for (let i = 0; i < 8; i++) buffer.record(vector(dim, i), i % 17, i, 10 + i, 12);
  return buffer;
}

test('round trips are exact: same bytes, same outputs, same statistics', () => {
  const lora = trainedLoRA(48);
  const loraCopy = WasmMicroLoRA.from_bytes(lora.to_bytes());
  assert.ok(lora.to_bytes() instanceof Uint8Array);
  assert.deepEqual(loraCopy.to_bytes(), lora.to_bytes());
  assert.equal(loraCopy.dim(), 48);
  assert.equal(loraCopy.forward_count(), lora.forward_count());
  assert.equal(loraCopy.adapt_count(), 2n);
  assert.equal(loraCopy.delta_norm(), lora.delta_norm());
  assert.deepEqual(loraCopy.forward_array(vector(48, 9)), lora.forward_array(vector(48, 9)));
  // The reference input travels too: the same adapt() gives the same state.
  loraCopy.adapt_with_reward(1);
  lora.adapt_with_reward(1);
  assert.deepEqual(loraCopy.to_bytes(), lora.to_bytes());

  const scoped = trainedScoped(24);
  const scopedCopy = WasmScopedLoRA.from_bytes(scoped.to_bytes());
  assert.deepEqual(scopedCopy.to_bytes(), scoped.to_bytes());
  for (let op = 0; op <= 16; op++) {
    assert.deepEqual(scopedCopy.forward_array(op, vector(24, 7)), scoped.forward_array(op, vector(24, 7)));
    assert.equal(scopedCopy.adapt_count(op), scoped.adapt_count(op));
  }
  assert.equal(scopedCopy.total_adapt_count(), 5n);

  const buffer = filledBuffer(6);
  const bufferCopy = WasmTrajectoryBuffer.from_bytes(buffer.to_bytes());
  assert.deepEqual(bufferCopy.to_bytes(), buffer.to_bytes());
  for (const stat of ['total_count', 'len', 'mean_improvement', 'best_improvement', 'success_rate', 'best_attention', 'variance']) {
    assert.equal(bufferCopy[stat](), buffer[stat](), stat);
  }
  // The ring continues where it was: the next record replaces the same oldest one.
  buffer.record(vector(6, 99), 3, 1, 5, 10);
  bufferCopy.record(vector(6, 99), 3, 1, 5, 10);
  assert.deepEqual(bufferCopy.to_bytes(), buffer.to_bytes());
});

test('a flipped byte anywhere is refused with an Error', () => {
  for (const [Class, object] of [
    [WasmMicroLoRA, trainedLoRA(4)],
    [WasmScopedLoRA, trainedScoped(1)],
    [WasmTrajectoryBuffer, filledBuffer(2)],
  ]) {
    const bytes = object.to_bytes();
    for (let i = 0; i < bytes.length; i++) {
      const damaged = bytes.slice();
      damaged[i] ^= 0xff;
      assert.throws(() => Class.from_bytes(damaged), (e) => e instanceof Error && /state/.test(e.message), `byte ${i}`);
    }
    assert.throws(() => Class.from_bytes(bytes.subarray(0, bytes.length - 1)), /state is not a microlora state/);
    assert.throws(() => Class.from_bytes(new Uint8Array([...bytes, 0])), /state is not a microlora state/);
    Class.from_bytes(bytes); // the undamaged bytes still load
  }
});
