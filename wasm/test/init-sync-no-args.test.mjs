// initSync() without arguments: the Node entry reads the bundled .wasm synchronously.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initSync, WasmTrajectoryBuffer } from 'ruvector-learning-wasm';

test('initSync() with no arguments reads the bundled .wasm in Node', () => {
  const exports = initSync();
  assert.ok(exports.memory instanceof WebAssembly.Memory);
  const buffer = new WasmTrajectoryBuffer(2, 2);
  buffer.record(new Float32Array(2), 0, 0, 1, 3);
  assert.equal(buffer.mean_improvement(), 2);
});
