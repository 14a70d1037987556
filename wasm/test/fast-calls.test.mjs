// js/fast_calls.js takes forward_array, adapt_array and record with a Float32Array of the embedding
// dimension in JavaScript and leaves everything else to the generated methods. Both ways must be
// one API: the same results, the same order of conversions and checks, the same method shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import init, { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } from 'ruvector-learning-wasm';
import { vector } from './helpers.mjs';

await init();

/** A number argument that logs its conversion and runs `sideEffect` during it. */
const number = (log, name, value, sideEffect = () => {}) => ({
  valueOf() {
    log.push(name);
    sideEffect();
    return value;
  },
});

test('a Float32Array and the same values as an Array give the same results and state', () => {
  const scoped = new WasmScopedLoRA(8, 0.5, 0.1);
  const viaArray = WasmScopedLoRA.from_bytes(scoped.to_bytes());
  for (const op of [0, 7, 16]) {
    assert.deepEqual(scoped.forward_array(op, vector(8, op)), viaArray.forward_array(op, Array.from(vector(8, op))));
    scoped.adapt_array(op, vector(8, op + 20));
    viaArray.adapt_array(op, Array.from(vector(8, op + 20)));
  }
  assert.deepEqual(scoped.to_bytes(), viaArray.to_bytes());
});

test('op_type is converted once, before the array is copied, on either path', () => {
  for (const asArray of [false, true]) {
    const scoped = new WasmScopedLoRA(8, 0.5, 0.1);
    const twin = WasmScopedLoRA.from_bytes(scoped.to_bytes());
    const [x, y] = [vector(8, 1), vector(8, 2)];
    const log = [];
    // The conversion runs JavaScript in the middle of the call, which here forwards another input
    // through the same object: the outer call must still compute with its own input.
    const op = number(log, 'op_type', 3, () => scoped.forward_array(4, y));
    const result = scoped.forward_array(op, asArray ? Array.from(x) : x);
    assert.deepEqual(log, ['op_type']);
    twin.forward_array(4, y);
    assert.deepEqual(result, twin.forward_array(3, x));
    scoped.adapt_array(number(log, 'op_type', 3, () => scoped.forward_array(5, y)), asArray ? Array.from(x) : x);
    twin.forward_array(5, y);
    twin.adapt_array(3, x);
    assert.deepEqual(log, ['op_type', 'op_type']);
    assert.deepEqual(scoped.to_bytes(), twin.to_bytes());
  }
});

test('record converts its numbers once each, in order, and a conversion that throws changes nothing', () => {
  const buffer = new WasmTrajectoryBuffer(4, 8);
  buffer.record(vector(8, 1), 2, 7, 100, 150);
  for (const embedding of [vector(8, 2), Array.from(vector(8, 2))]) {
    const log = [];
    buffer.record(embedding, number(log, 'op_type', 2), number(log, 'attention_type', 1),
      number(log, 'execution_ms', 100), number(log, 'baseline_ms', 150));
    assert.deepEqual(log, ['op_type', 'attention_type', 'execution_ms', 'baseline_ms']);
  }
  const before = buffer.to_bytes();
  const throwing = { valueOf() { throw new RangeError('not today'); } };
  assert.throws(() => buffer.record(vector(8, 3), 2, 0, throwing, 150), /not today/);
  assert.throws(() => buffer.record(vector(8, 3), 1n, 0, 100, 150), /Cannot convert a BigInt value to a number/);
  assert.deepEqual(buffer.to_bytes(), before);
  assert.equal(buffer.total_count(), 3n);
});

test('an array on the module\'s own memory is a valid argument', () => {
  const lora = new WasmMicroLoRA(8, 0.5, 0.1);
  lora.adapt_array(vector(8, 1));
  const twin = WasmMicroLoRA.from_bytes(lora.to_bytes());
  const onMemory = new Float32Array(lora.memory.buffer, lora.get_output_ptr(), 8);
  onMemory.set(vector(8, 2));
  assert.deepEqual(lora.forward_array(onMemory), twin.forward_array(vector(8, 2)));
  const buffer = new WasmTrajectoryBuffer(2, 8);
  buffer.record(new Float32Array(lora.memory.buffer, lora.get_output_ptr(), 8), 1, 0, 10, 20);
  const expected = new WasmTrajectoryBuffer(2, 8);
  expected.record(vector(8, 2), 1, 0, 10, 20);
  assert.deepEqual(buffer.to_bytes(), expected.to_bytes());
});

test('a freed object refuses the array calls as it refuses every call', () => {
  const freed = [new WasmMicroLoRA(8), new WasmScopedLoRA(8), new WasmTrajectoryBuffer(2, 8)];
  for (const object of freed) object.free();
  const [lora, scoped, buffer] = freed;
  const message = (error) => error instanceof Error && error.message === 'null pointer passed to rust';
  assert.throws(() => lora.dim(), message);
  for (const call of [() => lora.forward_array(vector(8, 1)), () => lora.adapt_array(vector(8, 1)),
    () => scoped.forward_array(1, vector(8, 1)), () => scoped.adapt_array(1, vector(8, 1)),
    () => buffer.record(vector(8, 1), 1, 0, 10, 20)]) {
    assert.throws(call, message);
  }
});

test('the methods keep their names and arity, and the helpers they call are not declared', async () => {
  for (const [Class, method, arity] of [[WasmMicroLoRA, 'forward_array', 1], [WasmMicroLoRA, 'adapt_array', 1],
    [WasmScopedLoRA, 'forward_array', 2], [WasmScopedLoRA, 'adapt_array', 2], [WasmTrajectoryBuffer, 'record', 5]]) {
    const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, method);
    assert.equal(descriptor.value.name, method);
    assert.equal(descriptor.value.length, arity);
    assert.equal(descriptor.enumerable, false, 'like every class method');
  }
  const declarations = await readFile(new URL('../pkg/ruvector_learning_wasm.d.ts', import.meta.url), 'utf8');
  assert.doesNotMatch(declarations, /\b_(stage|forward_staged|adapt_staged|record_staged)\(/);
  assert.doesNotMatch(declarations, /fast_calls|staging/, 'the methods\' documentation is about the API only');
  assert.match(declarations, /forward_array\(input: Float32Array\): Float32Array;/);
});

test('both entries, the ES module and CommonJS, install the fast calls when instantiated', async () => {
  const { createRequire } = await import('node:module');
  const cjs = createRequire(import.meta.url)('ruvector-learning-wasm');
  cjs.initSync();
  for (const [entry, classes] of [['ES module', { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer }], ['CommonJS', cjs]]) {
    for (const [name, method] of [['WasmMicroLoRA', 'forward_array'], ['WasmScopedLoRA', 'adapt_array'],
      ['WasmTrajectoryBuffer', 'record']]) {
      assert.match(classes[name].prototype[method].toString(), /stagingFor\(this, /, `${entry}: ${name}.${method}`);
    }
  }
  // And the CommonJS instance computes as the ES module's does, on its own memory.
  const input = vector(8, 3);
  const viaCjs = new cjs.WasmScopedLoRA(8, 0.5, 0.1);
  const viaEsm = new WasmScopedLoRA(8, 0.5, 0.1);
  viaCjs.adapt_array(2, vector(8, 4));
  viaEsm.adapt_array(2, vector(8, 4));
  assert.deepEqual(viaCjs.forward_array(2, input), viaEsm.forward_array(2, input));
});
