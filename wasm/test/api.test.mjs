// The classes are JavaScript (js/api.js) over the module's numeric exports: arrays are copied into
// staging buffers in JavaScript, numbers converted there, and refusals thrown there from core's
// message. They must behave as the wasm-bindgen classes they replace: the same results for a
// Float32Array and an Array, the same order of conversions and checks, the same method shapes, the
// same errors for freed objects, and nothing of the module's own exports in the package's.
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

test('a freed object can be freed again, and a method called on another class\'s object throws', () => {
  const lora = new WasmMicroLoRA(8);
  lora.free();
  lora.free();
  assert.throws(() => lora.to_bytes(), /null pointer passed to rust/);
  assert.throws(() => lora.memory, /null pointer passed to rust/);
  const scoped = new WasmScopedLoRA(8);
  const before = scoped.to_bytes();
  // Another class's object has no handle of this class: a TypeError, and nothing is touched.
  assert.throws(() => WasmMicroLoRA.prototype.forward_array.call(scoped, vector(8, 1)), TypeError);
  assert.throws(() => WasmTrajectoryBuffer.prototype.reset.call(scoped), TypeError);
  assert.throws(() => WasmScopedLoRA.prototype.dim.call({ __wbg_ptr: 8 }), TypeError);
  assert.deepEqual(scoped.to_bytes(), before);
});

test('the adapter classes\' shared methods are each class\'s own, with its brand and no base class', () => {
  const lora = new WasmMicroLoRA(8);
  const scoped = new WasmScopedLoRA(8);
  for (const [Class, other] of [[WasmMicroLoRA, scoped], [WasmScopedLoRA, lora]]) {
    assert.equal(Object.getPrototypeOf(Class.prototype), Object.prototype);
    assert.equal(Object.getPrototypeOf(Class), Function.prototype);
    assert.ok(!(other instanceof Class));
    // V8 names the class whose private method the receiver lacks.
    const receiver = new RegExp(`instance of class ${Class.name}`);
    for (const method of ['to_bytes', 'get_input_ptr', 'get_output_ptr', 'dim']) {
      assert.ok(Object.hasOwn(Class.prototype, method));
      assert.throws(() => Class.prototype[method].call(other), (e) => e instanceof TypeError && receiver.test(e.message));
    }
    assert.throws(() => Class.prototype.free.call(other), TypeError);
    assert.throws(() => Object.getOwnPropertyDescriptor(Class.prototype, 'memory').get.call(other), TypeError);
    assert.deepEqual(Object.keys(Class), [], 'static methods are not enumerable');
  }
  assert.equal(lora.dim(), 8);
  assert.equal(scoped.dim(), 8);
});

/** Every method of the three classes with its arity: the API of @ruvector/learning-wasm 0.1.29. */
const API = {
  WasmMicroLoRA: {
    static: { from_bytes: 1 },
    methods: { free: 0, adapt: 0, adapt_array: 1, adapt_count: 0, adapt_with_reward: 1, delta_norm: 0, dim: 0,
      forward: 0, forward_array: 1, forward_count: 0, get_input_ptr: 0, get_output_ptr: 0, param_count: 0,
      reset: 0, to_bytes: 0 },
    constructor: 3,
  },
  WasmScopedLoRA: {
    static: { from_bytes: 1, scope_name: 1 },
    methods: { free: 0, adapt: 1, adapt_array: 2, adapt_count: 1, adapt_with_reward: 2, delta_norm: 1, dim: 0,
      forward: 1, forward_array: 2, forward_count: 1, get_input_ptr: 0, get_output_ptr: 0, reset_all: 0,
      reset_scope: 1, set_category_fallback: 1, to_bytes: 0, total_adapt_count: 0, total_forward_count: 0 },
    constructor: 3,
  },
  WasmTrajectoryBuffer: {
    static: { from_bytes: 1 },
    methods: { free: 0, best_attention: 0, best_improvement: 0, count_by_operator: 1, high_quality_count: 1,
      is_empty: 0, len: 0, mean_improvement: 0, record: 5, reset: 0, success_rate: 0, to_bytes: 0,
      total_count: 0, variance: 0 },
    constructor: 2,
  },
};

test('the classes have exactly the methods of the API, with their names and arity, and no more', async () => {
  const classes = { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer };
  for (const [name, { static: statics, methods, constructor }] of Object.entries(API)) {
    const Class = classes[name];
    assert.equal(Class.name, name);
    assert.equal(Class.length, constructor);
    const own = Object.getOwnPropertyNames(Class.prototype).filter((key) => key !== 'constructor');
    const accessors = name === 'WasmTrajectoryBuffer' ? [] : ['memory'];
    assert.deepEqual(own.sort(), [...Object.keys(methods), ...accessors].sort(), name);
    for (const [method, arity] of Object.entries(methods)) {
      const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, method);
      assert.equal(descriptor.value.name, method);
      assert.equal(descriptor.value.length, arity, `${name}.${method}`);
      assert.equal(descriptor.enumerable, false, 'like every class method');
    }
    if (Symbol.dispose) assert.equal(Class.prototype[Symbol.dispose], Class.prototype.free);
    for (const [method, arity] of Object.entries(statics)) assert.equal(Class[method].length, arity, `${name}.${method}`);
    // An object's own properties: none (its handle is a private field).
    assert.deepEqual(Object.keys(name === 'WasmTrajectoryBuffer' ? new Class(2, 8) : new Class(8)), []);
  }
  const declarations = await readFile(new URL('../pkg/ruvector_learning_wasm.d.ts', import.meta.url), 'utf8');
  assert.doesNotMatch(declarations, /\b_(stage|forward_staged|adapt_staged|record_staged)\(/);
  assert.doesNotMatch(declarations, /staging|handle/, 'the methods\' documentation is about the API only');
  assert.match(declarations, /forward_array\(input: Float32Array\): Float32Array;/);
});

test('js/api.d.ts declares each class with exactly the methods and arities of the API', async () => {
  const declarations = await readFile(new URL('../js/api.d.ts', import.meta.url), 'utf8');
  const declared = {};
  for (const [, name, body] of declarations.matchAll(/^export class (\w+) \{\n([\s\S]*?)^\}/gm)) {
    const members = { static: {}, methods: {}, accessors: [], constructorArity: undefined };
    for (const [, isStatic, member, parameters] of body.matchAll(/^ {4}(static )?(\w+)\(([^)]*)\)/gm)) {
      const arity = parameters.trim() === '' ? 0 : parameters.split(',').length;
      if (member === 'constructor') members.constructorArity = arity;
      else members[isStatic ? 'static' : 'methods'][member] = arity;
    }
    for (const [, accessor] of body.matchAll(/^ {4}readonly (\w+):/gm)) members.accessors.push(accessor);
    assert.match(body, /^ {4}\[Symbol\.dispose\]\(\): void;$/m, name);
    declared[name] = members;
  }
  assert.deepEqual(Object.keys(declared).sort(), Object.keys(API).sort());
  for (const [name, { static: statics, methods, constructor }] of Object.entries(API)) {
    assert.deepEqual(declared[name].methods, methods, name);
    assert.deepEqual(declared[name].static, statics, name);
    assert.equal(declared[name].constructorArity, constructor, name);
    assert.deepEqual(declared[name].accessors, name === 'WasmTrajectoryBuffer' ? [] : ['memory'], name);
  }
});

test('both entries, the ES module and CommonJS, export the classes and nothing of the module', async () => {
  const { createRequire } = await import('node:module');
  const esm = await import('ruvector-learning-wasm');
  const cjs = createRequire(import.meta.url)('ruvector-learning-wasm');
  cjs.initSync();
  const exported = ['WasmMicroLoRA', 'WasmScopedLoRA', 'WasmTrajectoryBuffer', 'default', 'initSync', 'start'];
  assert.deepEqual(Object.keys(esm).sort(), exported.sort());
  assert.deepEqual(Object.keys(cjs).filter((key) => key !== '__esModule').sort(), exported.sort());
  // Each entry has its own instance: the CommonJS classes compute as the ES module's do, on their
  // own memory.
  assert.notEqual(cjs.WasmScopedLoRA, WasmScopedLoRA);
  const input = vector(8, 3);
  const viaCjs = new cjs.WasmScopedLoRA(8, 0.5, 0.1);
  const viaEsm = new WasmScopedLoRA(8, 0.5, 0.1);
  assert.notEqual(viaCjs.memory, viaEsm.memory);
  viaCjs.adapt_array(2, vector(8, 4));
  viaEsm.adapt_array(2, vector(8, 4));
  assert.deepEqual(viaCjs.forward_array(2, input), viaEsm.forward_array(2, input));
  assert.throws(() => viaCjs.forward_array(17, input), (e) => e instanceof Error && /op_type must be/.test(e.message));
});
