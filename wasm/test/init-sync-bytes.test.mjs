// initSync with the .wasm bytes, as in a bundler or worker that has them already.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initSync, WasmScopedLoRA } from 'ruvector-learning-wasm';

test('initSync({ module: bytes }) instantiates the module synchronously', () => {
  const wasmPath = fileURLToPath(import.meta.resolve('ruvector-learning-wasm/ruvector_learning_wasm_bg.wasm'));
  const bytes = readFileSync(wasmPath);
  const exports = initSync({ module: bytes });
  assert.ok(exports.memory instanceof WebAssembly.Memory);
  const scoped = new WasmScopedLoRA(8);
  assert.equal(WasmScopedLoRA.scope_name(13), 'VectorDistance');
  assert.deepEqual(scoped.forward_array(13, new Float32Array(8).fill(2)), new Float32Array(8).fill(2));
});
