// Memory: the largest objects are built and loaded without passing through the small stack, and
// a fresh module holding one adapter stays a few pages large. This file must stay the only one
// that instantiates its module (node --test runs each file in a process of its own), so that the
// first measurement sees a fresh instance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import init, { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } from 'ruvector-learning-wasm';
import { vector } from './helpers.mjs';

const { memory } = await init();
const PAGE = 65536;
// The stack size the package is linked with (build.sh passes it to the linker).
const STACK = Number(readFileSync(new URL('../build.sh', import.meta.url), 'utf8').match(/-zstack-size=(\d+)/)[1]);

/**
 * Runs `call` and returns how many bytes of the stack it used at its deepest. rustc links
 * WebAssembly with the stack first: it is the lowest STACK bytes of memory and grows down from
 * STACK. Between calls none of it is in use, so the bytes below the top are overwritten with a
 * pattern first, and the lowest byte that no longer holds it is the deepest one written.
 */
function stackUse(call) {
  new Uint8Array(memory.buffer).fill(0xa5, 0, STACK - 64);
  const result = call();
  const bytes = new Uint8Array(memory.buffer);
  let lowest = 0;
  while (lowest < STACK && bytes[lowest] === 0xa5) lowest++;
  return { result, used: STACK - lowest };
}

test('one WasmMicroLoRA(256) in a fresh module keeps memory within four pages', () => {
  new WasmMicroLoRA(256);
  // 64 KiB of stack and under 16 KiB of static data fill the first two pages; the adapter and its
  // reference input (5 KiB), its four buffers of 256 floats (4 KiB) and the allocator's own
  // records need a third, and growth in whole pages allows at most one more.
  assert.ok(memory.buffer.byteLength <= 4 * PAGE, `memory is ${memory.buffer.byteLength} bytes`);
});

test('the largest objects are built and loaded with a quarter of the stack to spare', () => {
  assert.ok(STACK <= 64 * 1024, `the stack is ${STACK} bytes`);
  let deepest = 0;
  const measured = (call) => {
    const { result, used } = stackUse(call);
    deepest = Math.max(deepest, used);
    return result;
  };

  const scoped = measured(() => new WasmScopedLoRA(256));
  for (let op = 0; op <= 16; op++) {
    scoped.forward_array(op, vector(256, op));
    scoped.adapt_array(op, vector(256, op + 40, 0.2));
  }
  const scopedBytes = measured(() => scoped.to_bytes());
  const scopedCopy = measured(() => WasmScopedLoRA.from_bytes(scopedBytes));
  assert.deepEqual(scopedCopy.to_bytes(), scopedBytes);
  assert.deepEqual(scopedCopy.forward_array(9, vector(256, 3)), scoped.forward_array(9, vector(256, 3)));

  const buffer = measured(() => new WasmTrajectoryBuffer());
  for (let i = 0; i < 1100; i++) buffer.record(vector(256, i), i % 17, i, 10 + (i % 7), 12);
  assert.equal(buffer.len(), 1000);
  const bufferBytes = measured(() => buffer.to_bytes());
  const bufferCopy = measured(() => WasmTrajectoryBuffer.from_bytes(bufferBytes));
  assert.deepEqual(bufferCopy.to_bytes(), bufferBytes);

  const lora = measured(() => new WasmMicroLoRA(256));
  lora.forward_array(vector(256, 1));
  const loraCopy = measured(() => WasmMicroLoRA.from_bytes(lora.to_bytes()));
  assert.deepEqual(loraCopy.to_bytes(), lora.to_bytes());
  measured(() => assert.throws(() => WasmScopedLoRA.from_bytes(scopedBytes.slice(0, 100)), /state/));

  assert.ok(deepest > 0, 'the measurement saw the stack in use');
  assert.ok(deepest <= STACK / 4, `the deepest call used ${deepest} of ${STACK} stack bytes`);
});
