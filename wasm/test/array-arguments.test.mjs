// The *_array calls and record take their array argument as a Float32Array (copied straight into a
// buffer the object allocated at construction) and return fresh Float32Arrays. A plain Array of
// numbers is accepted too, as by the original package; anything else is refused with an Error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import init, { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } from 'ruvector-learning-wasm';
import { assertRefused, vector } from './helpers.mjs';

await init();

const NOT_ARRAYS = [undefined, null, 8, '12345678', true, {}, { length: 8 }, new Float64Array(8), new Uint8Array(32),
  new ArrayBuffer(32), new DataView(new ArrayBuffer(32))];

/** A WasmMicroLoRA of dim 8 that has learned something, so that a change of state would show. */
function trainedLoRA() {
  const lora = new WasmMicroLoRA(8, 0.5, 0.1);
  lora.forward_array(vector(8, 1));
  lora.adapt_array(vector(8, 2));
  return lora;
}

test('WasmMicroLoRA: what is not a Float32Array or an Array is refused, and the object stays usable', () => {
  const lora = trainedLoRA();
  const expected = lora.forward_array(vector(8, 3));
  for (const value of NOT_ARRAYS) {
    assertRefused(lora, () => lora.forward_array(value), /^input must be a Float32Array \(or an Array of numbers\)$/);
    assertRefused(lora, () => lora.adapt_array(value), /^gradient must be a Float32Array \(or an Array of numbers\)$/);
  }
  // An Array element that cannot become a number throws during the conversion: refused the same way.
  for (const value of [[1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n], [Symbol('x'), 0, 0, 0, 0, 0, 0, 0]]) {
    assertRefused(lora, () => lora.forward_array(value), /^input must be a Float32Array/);
    assertRefused(lora, () => lora.adapt_array(value), /^gradient must be a Float32Array/);
  }
  // No exception left the object borrowed: it still computes, and the same.
  assert.deepEqual(lora.forward_array(vector(8, 3)), expected);
  lora.adapt_array(vector(8, 4));
  assert.equal(lora.adapt_count(), 2n);
});

test('WasmMicroLoRA: a plain Array of numbers works like the same Float32Array', () => {
  const a = trainedLoRA();
  const b = trainedLoRA();
  const x = vector(8, 5);
  const fromArray = a.forward_array(Array.from(x));
  assert.ok(fromArray instanceof Float32Array);
  assert.deepEqual(fromArray, b.forward_array(x));
  a.adapt_array(Array.from(vector(8, 6)));
  b.adapt_array(vector(8, 6));
  assert.deepEqual(a.to_bytes(), b.to_bytes());
  assertRefused(a, () => a.forward_array([1, 2, 3]), /^input must have length 8 \(the embedding dimension\), got 3$/);
  assertRefused(a, () => a.adapt_array([1, 2, 3, 4, 5, 6, 7, 'eight']), /^gradient contains NaN or infinite/);
});

test('WasmMicroLoRA: wrong lengths are refused with core\'s message, for views at an offset too', () => {
  const lora = trainedLoRA();
  const backing = new Float32Array(32).fill(0.25);
  for (const [array, length] of [[backing.subarray(3, 10), 7], [backing.subarray(3, 12), 9], [new Float32Array(0), 0]]) {
    assertRefused(lora, () => lora.forward_array(array),
      new RegExp(`^input must have length 8 \\(the embedding dimension\\), got ${length}$`));
    assertRefused(lora, () => lora.adapt_array(array), new RegExp(`^gradient must have length 8 .*got ${length}$`));
  }
  // A view of the right length at an offset into a larger buffer reads its own elements.
  const view = backing.subarray(5, 13);
  view.set(vector(8, 7));
  assert.deepEqual(lora.forward_array(view), trainedLoRA().forward_array(vector(8, 7)));
});

test('forward_array returns a fresh array that later calls and memory growth leave alone', () => {
  const lora = trainedLoRA();
  const first = lora.forward_array(vector(8, 1));
  const copy = first.slice();
  assert.notEqual(first.buffer, lora.memory.buffer, 'not a view on WebAssembly memory');
  const second = lora.forward_array(vector(8, 2));
  assert.notEqual(first, second);
  const pagesBefore = lora.memory.buffer.byteLength;
  const grower = new WasmTrajectoryBuffer(2000, 256); // 2 MB: grows the memory
  assert.ok(lora.memory.buffer.byteLength > pagesBefore, 'the memory grew');
  assert.deepEqual(first, copy);
  assert.equal(first.length, 8);
  // The array calls keep working after the growth (they copy through a view of the new memory).
  assert.deepEqual(lora.forward_array(vector(8, 1)), copy);
  grower.record(vector(256, 3), 1, 0, 10, 20);
  assert.equal(grower.len(), 1);
  grower.free();
});

test('the *_array calls leave the zero-copy buffers alone', () => {
  const lora = trainedLoRA();
  const scoped = new WasmScopedLoRA(8, 0.5, 0.1);
  for (const [object, forward, adapt] of [
    [lora, (x) => lora.forward_array(x), (g) => lora.adapt_array(g)],
    [scoped, (x) => scoped.forward_array(4, x), (g) => scoped.adapt_array(4, g)],
  ]) {
    const input = new Float32Array(object.memory.buffer, object.get_input_ptr(), 8);
    const output = new Float32Array(object.memory.buffer, object.get_output_ptr(), 8);
    input.set(vector(8, 11));
    output.set(vector(8, 12));
    forward(vector(8, 13));
    adapt(vector(8, 14));
    assert.throws(() => forward(new Float32Array(3)), /input must have length 8/);
    const views = () => [new Float32Array(object.memory.buffer, object.get_input_ptr(), 8),
      new Float32Array(object.memory.buffer, object.get_output_ptr(), 8)];
    const [inputNow, outputNow] = views();
    assert.deepEqual(inputNow, vector(8, 11));
    assert.deepEqual(outputNow, vector(8, 12));
  }
});

test('WasmScopedLoRA: non-arrays are refused after op_type, and a plain Array works', () => {
  const scoped = new WasmScopedLoRA(8, 0.5, 0.1);
  scoped.forward_array(3, vector(8, 1));
  scoped.adapt_array(3, vector(8, 2));
  for (const value of NOT_ARRAYS) {
    assertRefused(scoped, () => scoped.forward_array(3, value), /^input must be a Float32Array/);
    assertRefused(scoped, () => scoped.adapt_array(3, value), /^gradient must be a Float32Array/);
    // op_type is checked first, as before.
    assertRefused(scoped, () => scoped.forward_array(17, value), /^op_type must be an integer in 0..=16/);
  }
  const other = WasmScopedLoRA.from_bytes(scoped.to_bytes());
  assert.deepEqual(scoped.forward_array(3, Array.from(vector(8, 3))), other.forward_array(3, vector(8, 3)));
  assert.equal(scoped.forward_count(3), 2n);
});

test('WasmTrajectoryBuffer: a refused record never overwrites the oldest buffered record', () => {
  const buffer = new WasmTrajectoryBuffer(2, 8);
  buffer.record(vector(8, 1), 2, 1, 100, 150);
  buffer.record(vector(8, 2), 3, 2, 100, 120); // the ring is full: the next record takes slot 0
  const fresh = vector(8, 9);
  // The embedding is fine, so it is copied in before core refuses the time; the state (which holds
  // the embeddings) must not change.
  assertRefused(buffer, () => buffer.record(fresh, 2, 0, -1, 150), /execution_ms must be a finite number >= 0/);
  assertRefused(buffer, () => buffer.record(fresh, 2, 0, 100, NaN), /baseline_ms must be a finite number >= 0/);
  const nan = fresh.slice();
  nan[7] = NaN;
  assertRefused(buffer, () => buffer.record(nan, 2, 0, 100, 150), /embedding contains NaN or infinite/);
  for (const value of NOT_ARRAYS) {
    assertRefused(buffer, () => buffer.record(value, 2, 0, 100, 150), /^embedding must be a Float32Array/);
  }
  assertRefused(buffer, () => buffer.record(new Float32Array(9), 2, 0, 100, 150), /^embedding must have length 8 .*got 9$/);
  // A plain Array records like the same Float32Array.
  const viaArray = WasmTrajectoryBuffer.from_bytes(buffer.to_bytes());
  viaArray.record(Array.from(fresh), 2, 0, 100, 150);
  buffer.record(fresh, 2, 0, 100, 150);
  assert.deepEqual(viaArray.to_bytes(), buffer.to_bytes());
  assert.equal(buffer.total_count(), 3n);
  assert.equal(buffer.len(), 2);
});
