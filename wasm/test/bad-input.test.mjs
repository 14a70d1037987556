// Every wrong call throws a JavaScript Error naming the argument, and leaves the object unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import init, { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } from 'ruvector-learning-wasm';
import { assertRefused, vector } from './helpers.mjs';

await init();

const NOT_INTEGERS = [NaN, Infinity, -Infinity, 1.5, 'abc'];
const BAD_OP_TYPES = [-1, 17, 255, 256 + 2, 2 ** 32 + 2, 2.5, NaN, Infinity, -0.5];

/** Asserts that `construct` throws an Error whose message matches `message`. */
function assertConstructorRefuses(construct, message) {
  assert.throws(construct, (error) => error instanceof Error && message.test(error.message));
}

for (const [name, Class] of [['WasmMicroLoRA', WasmMicroLoRA], ['WasmScopedLoRA', WasmScopedLoRA]]) {
  test(`${name}: the constructor refuses bad dim, alpha and learning_rate`, () => {
    for (const dim of [0, 257, 1000, -1, 2 ** 32 + 8, ...NOT_INTEGERS]) {
      assertConstructorRefuses(() => new Class(dim), /dim must be an integer in 1..=256/);
    }
    for (const alpha of [NaN, Infinity, -Infinity, 1e300]) {
      assertConstructorRefuses(() => new Class(8, alpha), /alpha/);
    }
    for (const learningRate of [NaN, Infinity, -0.01]) {
      assertConstructorRefuses(() => new Class(8, 0.1, learningRate), /learning_rate/);
    }
    // The published defaults, and null/undefined for omitted arguments.
    const fresh = new Class();
    assert.equal(fresh.dim(), 256);
    assert.equal(new Class(undefined, null, undefined).dim(), 256);
    assert.equal(new Class(1).dim(), 1);
  });
}

test('WasmMicroLoRA: wrong lengths and non-finite values are refused and change nothing', () => {
  const lora = new WasmMicroLoRA(16, 0.1, 0.01);
  lora.forward_array(vector(16, 1));
  lora.adapt_array(vector(16, 2, 0.1));
  const expectedOutput = lora.forward_array(vector(16, 3));
  lora.forward_array(vector(16, 1)); // the reference input again
  const forwardCount = lora.forward_count();
  const adaptCount = lora.adapt_count();

  for (const length of [0, 15, 17, 256]) {
    assertRefused(lora, () => lora.forward_array(new Float32Array(length)), /input must have length 16.*got/);
    assertRefused(lora, () => lora.adapt_array(new Float32Array(length)), /gradient must have length 16.*got/);
  }
  for (const bad of [NaN, Infinity, -Infinity]) {
    const v = vector(16, 4);
    v[7] = bad;
    assertRefused(lora, () => lora.forward_array(v), /input contains NaN or infinite/);
    assertRefused(lora, () => lora.adapt_array(v), /gradient contains NaN or infinite/);
    assertRefused(lora, () => lora.adapt_with_reward(bad), /improvement must be a finite number/);
  }
  assertRefused(lora, () => lora.forward_array(undefined), /./);
  assertRefused(lora, () => lora.adapt_array(null), /./);
  assert.equal(lora.forward_count(), forwardCount);
  assert.equal(lora.adapt_count(), adaptCount);
  assert.deepEqual(lora.forward_array(vector(16, 3)), expectedOutput, 'outputs are unchanged');
});

test('WasmMicroLoRA: zero-copy calls refuse NaN in the input buffer and leave the output buffer alone', () => {
  const lora = new WasmMicroLoRA(8, 0.1, 0.01);
  const input = () => new Float32Array(lora.memory.buffer, lora.get_input_ptr(), 8);
  const output = () => new Float32Array(lora.memory.buffer, lora.get_output_ptr(), 8);
  input().set(vector(8, 5));
  lora.forward();
  const written = output().slice();
  input()[3] = NaN;
  assertRefused(lora, () => lora.forward(), /input contains NaN or infinite/);
  assertRefused(lora, () => lora.adapt(), /gradient contains NaN or infinite/);
  assert.deepEqual(output().slice(), written, 'the output buffer is unchanged');
  assert.equal(lora.forward_count(), 1n);
  assert.equal(lora.adapt_count(), 0n);
  input()[3] = 0.25;
  lora.forward(); // still usable: no trap poisoned the object
  assert.equal(lora.forward_count(), 2n);
});

test('WasmScopedLoRA: op_type outside 0..=16 or not an integer is refused everywhere', () => {
  const scoped = new WasmScopedLoRA(8, 0.1, 0.01);
  scoped.forward_array(2, vector(8, 1));
  scoped.adapt_array(2, vector(8, 2, 0.1));
  const x = vector(8, 3);
  for (const op of BAD_OP_TYPES) {
    const message = /op_type must be an integer in 0..=16/;
    assertRefused(scoped, () => scoped.forward_array(op, x), message);
    assertRefused(scoped, () => scoped.adapt_array(op, x), message);
    assertRefused(scoped, () => scoped.forward(op), message);
    assertRefused(scoped, () => scoped.adapt(op), message);
    assertRefused(scoped, () => scoped.adapt_with_reward(op, 0.5), message);
    assertRefused(scoped, () => scoped.reset_scope(op), message);
    assertRefused(scoped, () => scoped.forward_count(op), message);
    assertRefused(scoped, () => scoped.adapt_count(op), message);
    assertRefused(scoped, () => scoped.delta_norm(op), message);
    assert.throws(() => WasmScopedLoRA.scope_name(op), (e) => e instanceof Error && message.test(e.message));
  }
  // 2 ** 32 + 2 would be 2 if it were taken as a u32: it must not touch scope 2.
  assert.equal(scoped.forward_count(2), 1n);
  assert.equal(scoped.adapt_count(2), 1n);
  assert.equal(scoped.total_forward_count(), 1n);
});

test('WasmScopedLoRA: wrong lengths and non-finite values are refused and change nothing', () => {
  const scoped = new WasmScopedLoRA(8, 0.1, 0.01);
  scoped.forward_array(5, vector(8, 1));
  const expected = scoped.forward_array(5, vector(8, 2));
  for (const length of [0, 7, 9]) {
    assertRefused(scoped, () => scoped.forward_array(5, new Float32Array(length)), /input must have length 8/);
    assertRefused(scoped, () => scoped.adapt_array(5, new Float32Array(length)), /gradient must have length 8/);
  }
  const v = vector(8, 3);
  v[0] = NaN;
  assertRefused(scoped, () => scoped.forward_array(5, v), /input contains NaN/);
  assertRefused(scoped, () => scoped.adapt_array(5, v), /gradient contains NaN/);
  assertRefused(scoped, () => scoped.adapt_with_reward(5, NaN), /improvement/);
  new Float32Array(scoped.memory.buffer, scoped.get_input_ptr(), 8).set(v);
  assertRefused(scoped, () => scoped.forward(5), /input contains NaN/);
  assertRefused(scoped, () => scoped.adapt(5), /gradient contains NaN/);
  assert.equal(scoped.forward_count(5), 2n);
  assert.equal(scoped.total_adapt_count(), 0n);
  assert.deepEqual(scoped.forward_array(5, vector(8, 2)), expected);
});

test('WasmTrajectoryBuffer: the constructor refuses bad capacity and embedding_dim', () => {
  for (const capacity of [0, -1, ...NOT_INTEGERS]) {
    assertConstructorRefuses(() => new WasmTrajectoryBuffer(capacity, 8), /capacity must be an integer >= 1/);
  }
  // Too large to allocate: refused with an Error, not a trap.
  for (const capacity of [2 ** 22, 2 ** 31, 2 ** 32, 2 ** 53]) {
    assertConstructorRefuses(() => new WasmTrajectoryBuffer(capacity, 256), /capacity .*more memory than can be allocated/);
  }
  for (const dim of [0, 257, -3, ...NOT_INTEGERS]) {
    assertConstructorRefuses(() => new WasmTrajectoryBuffer(10, dim), /embedding_dim must be an integer in 1..=256/);
  }
  const defaults = new WasmTrajectoryBuffer();
  defaults.record(new Float32Array(256), 0, 0, 1, 1);
  assert.equal(defaults.len(), 1);
});

test('WasmTrajectoryBuffer: record refuses bad arguments and changes nothing', () => {
  const buffer = new WasmTrajectoryBuffer(4, 8);
  buffer.record(vector(8, 1), 2, 7, 100, 150);
  const e = vector(8, 2);
  for (const length of [0, 7, 9]) {
    assertRefused(buffer, () => buffer.record(new Float32Array(length), 2, 0, 100, 150), /embedding must have length 8/);
  }
  const nan = vector(8, 3);
  nan[2] = Infinity;
  assertRefused(buffer, () => buffer.record(nan, 2, 0, 100, 150), /embedding contains NaN or infinite/);
  for (const op of BAD_OP_TYPES) {
    assertRefused(buffer, () => buffer.record(e, op, 0, 100, 150), /op_type must be an integer in 0..=16/);
    assertRefused(buffer, () => buffer.count_by_operator(op), /op_type must be an integer in 0..=16/);
  }
  for (const attention of [-1, 2 ** 32, 2 ** 32 + 7, 0.5, NaN, Infinity]) {
    assertRefused(buffer, () => buffer.record(e, 2, attention, 100, 150), /attention_type must be an integer in 0..=4294967295/);
  }
  for (const time of [-1, -0.001, NaN, Infinity, -Infinity]) {
    assertRefused(buffer, () => buffer.record(e, 2, 0, time, 150), /execution_ms must be a finite number >= 0/);
    assertRefused(buffer, () => buffer.record(e, 2, 0, 100, time), /baseline_ms must be a finite number >= 0/);
  }
  assertRefused(buffer, () => buffer.high_quality_count(NaN), /threshold/);
  assert.equal(buffer.total_count(), 1n);
  assert.equal(buffer.len(), 1);
  assert.equal(buffer.best_attention(), 7);
  assert.equal(buffer.mean_improvement(), 0.5);
  // The largest attention type is accepted without wrapping.
  buffer.record(e, 16, 2 ** 32 - 1, 10, 100);
  assert.equal(buffer.best_attention(), 2 ** 32 - 1);
});

test('from_bytes refuses what is not a state of its class', () => {
  for (const Class of [WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer]) {
    for (const bytes of [new Uint8Array(0), new Uint8Array(64), new TextEncoder().encode('MLRA not really a state')]) {
      assert.throws(() => Class.from_bytes(bytes), (e) => e instanceof Error && /state/.test(e.message));
    }
  }
  const loraBytes = new WasmMicroLoRA(8).to_bytes();
  assert.throws(() => WasmScopedLoRA.from_bytes(loraBytes), /state holds a MicroLoRA, not a ScopedLoRA/);
  assert.throws(() => WasmTrajectoryBuffer.from_bytes(loraBytes), /state holds a MicroLoRA, not a TrajectoryBuffer/);
});

test('messages show the refused number as JavaScript writes it', () => {
  const message = (call) => {
    try {
      call();
    } catch (error) {
      assert.ok(error instanceof Error);
      return error.message;
    }
    assert.fail('expected a throw');
  };
  assert.equal(message(() => new WasmMicroLoRA(2.5)), 'dim must be an integer in 1..=256, got 2.5');
  assert.equal(message(() => new WasmScopedLoRA(-3)), 'dim must be an integer in 1..=256, got -3');
  assert.equal(message(() => new WasmMicroLoRA(8, NaN)), 'alpha must be a finite number, got NaN');
  assert.equal(message(() => new WasmMicroLoRA(8, 0.1, -0.01)), 'learning_rate must be a finite number >= 0, got -0.009999999776482582');
  assert.equal(message(() => new WasmTrajectoryBuffer(1e300)), 'capacity 1e+300 needs more memory than can be allocated');
  assert.equal(message(() => new WasmTrajectoryBuffer(0.5)), 'capacity must be an integer >= 1, got 0.5');
  assert.equal(message(() => WasmScopedLoRA.scope_name(4294967298)), 'op_type must be an integer in 0..=16, got 4294967298');
  const buffer = new WasmTrajectoryBuffer(4, 2);
  assert.equal(message(() => buffer.record([1, 2], 1, 0, -Infinity, 1)), 'execution_ms must be a finite number >= 0, got -Infinity');
});
