// The zero-copy API: views on the module's memory at get_input_ptr/get_output_ptr, forward(),
// adapt() and adapt_with_reward() on the buffers, and views re-created after the memory grows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import init, { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } from 'ruvector-learning-wasm';
import { vector } from './helpers.mjs';

const exports = await init();

const views = (object) => ({
  input: new Float32Array(object.memory.buffer, object.get_input_ptr(), object.dim()),
  output: new Float32Array(object.memory.buffer, object.get_output_ptr(), object.dim()),
});

test('memory is the module\'s WebAssembly.Memory, on every class', () => {
  const lora = new WasmMicroLoRA(8);
  const scoped = new WasmScopedLoRA(8);
  assert.ok(lora.memory instanceof WebAssembly.Memory);
  assert.equal(lora.memory, exports.memory);
  assert.equal(scoped.memory, exports.memory);
});

test('the buffers of different objects are dim floats each and do not overlap', () => {
  const objects = [new WasmMicroLoRA(256), new WasmMicroLoRA(3), new WasmScopedLoRA(256), new WasmScopedLoRA(5)];
  const ranges = objects.flatMap((o) => [o.get_input_ptr(), o.get_output_ptr()].map((p) => [p, p + 4 * o.dim()]));
  for (const [start] of ranges) assert.equal(start % 4, 0, 'aligned for a Float32Array view');
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i][0] >= ranges[i - 1][1], 'no overlap');
});

test('WasmMicroLoRA: forward() reads the input buffer and writes the output buffer like forward_array', () => {
  const lora = new WasmMicroLoRA(64, 0.5, 0.05);
  lora.adapt_array(vector(64, 9, 0.3)); // make it non-identity
  const x = vector(64, 1);
  const { input, output } = views(lora);
  input.set(x);
  lora.forward();
  assert.deepEqual(output.slice(), lora.forward_array(x));
  assert.notDeepEqual(output.slice(), x);
  assert.deepEqual(input.slice(), x, 'forward() does not touch the input');
  assert.equal(lora.forward_count(), 2n);
});

test('WasmMicroLoRA: adapt() uses the input buffer as gradient; adapt_with_reward reinforces the latest input', () => {
  const zeroCopy = new WasmMicroLoRA(32, 0.1, 0.01);
  const arrays = WasmMicroLoRA.from_bytes(zeroCopy.to_bytes());
  const x = vector(32, 2);
  const { input } = views(zeroCopy);
  input.set(x);
  zeroCopy.forward();
  zeroCopy.adapt();
  zeroCopy.adapt_with_reward(0.5);
  arrays.forward_array(x);
  arrays.adapt_array(x);
  arrays.adapt_with_reward(0.5);
  assert.deepEqual(zeroCopy.to_bytes(), arrays.to_bytes(), 'same state by either path');
  assert.equal(zeroCopy.adapt_count(), 2n);
});

test('WasmScopedLoRA: the zero-copy calls match the array calls, per op_type', () => {
  const zeroCopy = new WasmScopedLoRA(16, 0.1, 0.01);
  const arrays = WasmScopedLoRA.from_bytes(zeroCopy.to_bytes());
  const { input, output } = views(zeroCopy);
  for (const op of [0, 5, 16]) {
    const x = vector(16, op + 1);
    input.set(x);
    zeroCopy.forward(op);
    assert.deepEqual(output.slice(), arrays.forward_array(op, x));
    zeroCopy.adapt(op);
    zeroCopy.adapt_with_reward(op, -0.25);
    arrays.adapt_array(op, x);
    arrays.adapt_with_reward(op, -0.25);
  }
  assert.deepEqual(zeroCopy.to_bytes(), arrays.to_bytes());
  assert.equal(zeroCopy.total_adapt_count(), 6n);
});

test('views re-created after the memory grows still work', () => {
  const lora = new WasmMicroLoRA(256, 0.1, 0.01);
  lora.adapt_array(vector(256, 3, 0.5));
  const old = views(lora);
  const sizeBefore = lora.memory.buffer.byteLength;
  // Allocate until the memory grows (each buffer reserves 1000 × 256 floats).
  const keep = [];
  while (lora.memory.buffer.byteLength === sizeBefore) keep.push(new WasmTrajectoryBuffer(1000, 256));
  assert.ok(keep.length > 0);
  assert.equal(old.input.byteLength, 0, 'the old views were detached by memory.grow');
  const fresh = views(lora);
  const x = vector(256, 4);
  fresh.input.set(x);
  lora.forward();
  assert.deepEqual(fresh.output.slice(), lora.forward_array(x));
  assert.notDeepEqual(fresh.output.slice(), x);
  for (const buffer of keep) buffer.free();
});
