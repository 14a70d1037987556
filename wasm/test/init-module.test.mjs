// await init({ module_or_path }) with a compiled WebAssembly.Module, as the web build allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import init, { WasmMicroLoRA } from 'ruvector-learning-wasm';

test('await init({ module_or_path: WebAssembly.Module }) works', async () => {
  const bytes = await readFile(new URL(import.meta.resolve('ruvector-learning-wasm/ruvector_learning_wasm_bg.wasm')));
  const module = await WebAssembly.compile(bytes);
  const exports = await init({ module_or_path: module });
  assert.ok(exports.memory instanceof WebAssembly.Memory);
  assert.equal(new WasmMicroLoRA(3).param_count(), 12);
});
