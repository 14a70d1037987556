// Using the classes before the module is instantiated throws an Error that says what to do, and
// leaves nothing behind: after init() everything works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import init, { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } from 'ruvector-learning-wasm';

test('before init() the classes throw an Error naming init(), and work after it', async () => {
  const notInitialised = (error) => error instanceof Error && /await init\(\) \(or call initSync\(\)\) first/.test(error.message);
  assert.throws(() => new WasmMicroLoRA(8), notInitialised);
  assert.throws(() => new WasmScopedLoRA(), notInitialised);
  assert.throws(() => new WasmTrajectoryBuffer(2, 8), notInitialised);
  assert.throws(() => WasmScopedLoRA.scope_name(2), notInitialised);
  for (const Class of [WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer]) {
    assert.throws(() => Class.from_bytes(new Uint8Array(4)), notInitialised);
  }
  await init();
  assert.equal(new WasmMicroLoRA(8).dim(), 8);
  assert.equal(WasmScopedLoRA.scope_name(2), 'HnswScan');
  assert.equal(WasmMicroLoRA.from_bytes(new WasmMicroLoRA(4).to_bytes()).dim(), 4);
});
