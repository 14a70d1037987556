// In Node, the package name resolves (through package.json "exports", condition "node") to the
// entry that lets `await init()` run with no arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import init, { WasmMicroLoRA, initSync } from 'ruvector-learning-wasm';

test('the package resolves to its Node entry', () => {
  assert.match(import.meta.resolve('ruvector-learning-wasm'), /\/pkg\/node\.js$/);
});

test('with the "browser" condition (as bundlers for the web set it) it resolves to the web build', () => {
  const script = "console.log(import.meta.resolve('ruvector-learning-wasm'))";
  const resolved = execFileSync(process.execPath, ['--conditions=browser', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    encoding: 'utf8',
  });
  assert.match(resolved.trim(), /\/pkg\/ruvector_learning_wasm\.js$/);
});

test('await init() with no arguments instantiates the module once', async () => {
  const exports = await init();
  assert.ok(exports.memory instanceof WebAssembly.Memory);
  assert.equal(await init(), exports, 'a second init() returns the same instance');
  assert.equal(initSync(), exports);
  const lora = new WasmMicroLoRA();
  assert.equal(lora.memory, exports.memory);
  assert.equal(lora.dim(), 256);
});
