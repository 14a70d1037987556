// Learned state moves between the faces unchanged: what Rust (core/, as the Postgres extension
// uses it) saves, the npm package loads and answers with the same outputs and counts; what the
// npm package saves, Rust loads. The Rust side is src/bin/state_exchange.rs, built by
// scripts/test.sh before this runs; the package is wasm/pkg, built by wasm/build.sh.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import init, { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } from '../wasm/pkg/node.js';

await init();

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUST = process.env.STATE_EXCHANGE ?? join(ROOT, 'target', 'debug', 'state_exchange');
const DIR = mkdtempSync(join(tmpdir(), 'microlora-state-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const DIM = 8;
const PROBE = Float32Array.from({ length: DIM }, (_, i) => 0.25 * i - 0.8);

function rust(mode, kind, file) {
  return JSON.parse(execFileSync(RUST, [mode, kind, file], { encoding: 'utf8' }));
}

/** Outputs agree to f32 rounding: native and wasm SIMD may sum lanes in a different order. */
function assertClose(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = 1e-6 * (1 + Math.abs(expected[i]));
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

function describeScoped(scoped) {
  return {
    total_forward_count: Number(scoped.total_forward_count()),
    total_adapt_count: Number(scoped.total_adapt_count()),
    scopes: Array.from({ length: 17 }, (_, op) => ({
      forward_count: Number(scoped.forward_count(op)),
      adapt_count: Number(scoped.adapt_count(op)),
      delta_norm: scoped.delta_norm(op),
    })),
  };
}

test('an adapter trained in Rust answers the same in JavaScript, and back', () => {
  const file = join(DIR, 'lora.bin');
  const fromRust = rust('write', 'lora', file);
  const lora = WasmMicroLoRA.from_bytes(readFileSync(file));
  assert.equal(lora.forward_count(), BigInt(fromRust.forward_count));
  assert.equal(lora.adapt_count(), BigInt(fromRust.adapt_count));
  assertClose([lora.delta_norm()], [fromRust.delta_norm], 'delta_norm');
  assertClose(lora.forward_array(PROBE), fromRust.output, 'output');

  // JavaScript trains it further and saves it; Rust loads exactly that.
  lora.adapt_array(Float32Array.from({ length: DIM }, (_, i) => Math.cos(i)));
  writeFileSync(file, lora.to_bytes());
  const saved = { forward: lora.forward_count(), adapt: lora.adapt_count(), norm: lora.delta_norm() };
  const expected = lora.forward_array(PROBE);
  const backInRust = rust('read', 'lora', file);
  assert.equal(BigInt(backInRust.forward_count), saved.forward);
  assert.equal(BigInt(backInRust.adapt_count), saved.adapt);
  assertClose([backInRust.delta_norm], [saved.norm], 'delta_norm after JS training');
  assertClose(backInRust.output, expected, 'output after JS training');
});

test('scoped adapters trained in Rust answer the same in JavaScript, and back', () => {
  const file = join(DIR, 'scoped.bin');
  const fromRust = rust('write', 'scoped', file);
  const scoped = WasmScopedLoRA.from_bytes(readFileSync(file));
  const described = describeScoped(scoped);
  assert.equal(described.total_forward_count, fromRust.total_forward_count);
  assert.equal(described.total_adapt_count, fromRust.total_adapt_count);
  for (let op = 0; op < 17; op++) {
    const name = WasmScopedLoRA.scope_name(op);
    assert.equal(described.scopes[op].adapt_count, fromRust.scopes[op].adapt_count, `${name} adapt_count`);
    assert.equal(described.scopes[op].forward_count, fromRust.scopes[op].forward_count, `${name} forward_count`);
    assertClose([described.scopes[op].delta_norm], [fromRust.scopes[op].delta_norm], `${name} delta_norm`);
  }
  for (let op = 0; op < 17; op++) {
    assertClose(scoped.forward_array(op, PROBE), fromRust.scopes[op].output, `${WasmScopedLoRA.scope_name(op)} output`);
  }

  scoped.adapt_array(11, Float32Array.from({ length: DIM }, (_, i) => i % 3 - 1)); // Sort
  writeFileSync(file, scoped.to_bytes());
  const saved = describeScoped(scoped);
  const outputs = Array.from({ length: 17 }, (_, op) => scoped.forward_array(op, PROBE));
  const backInRust = rust('read', 'scoped', file);
  assert.equal(backInRust.total_adapt_count, saved.total_adapt_count);
  for (let op = 0; op < 17; op++) {
    assert.equal(backInRust.scopes[op].adapt_count, saved.scopes[op].adapt_count);
    assertClose(backInRust.scopes[op].output, outputs[op], `${WasmScopedLoRA.scope_name(op)} output after JS training`);
  }
});

test('trajectories recorded in Rust keep their statistics in JavaScript, and back', () => {
  const file = join(DIR, 'trajectory.bin');
  const fromRust = rust('write', 'trajectory', file);
  const buffer = WasmTrajectoryBuffer.from_bytes(readFileSync(file));
  assert.equal(buffer.total_count(), BigInt(fromRust.total_count));
  assert.equal(buffer.len(), fromRust.len);
  assert.equal(buffer.mean_improvement(), fromRust.mean_improvement);
  assert.equal(buffer.variance(), fromRust.variance);
  assert.equal(buffer.best_improvement(), fromRust.best_improvement);
  assert.equal(buffer.best_attention(), fromRust.best_attention);
  assert.equal(buffer.success_rate(), fromRust.success_rate);
  for (let op = 0; op < 17; op++) assert.equal(buffer.count_by_operator(op), fromRust.count_by_operator[op]);

  buffer.record(PROBE, 16, 2, 4.0, 10.0);
  writeFileSync(file, buffer.to_bytes());
  const backInRust = rust('read', 'trajectory', file);
  assert.equal(backInRust.total_count, fromRust.total_count + 1);
  assert.equal(backInRust.len, Math.min(fromRust.len + 1, 4));
  assert.equal(backInRust.best_improvement, 1.5);
  assert.equal(backInRust.best_attention, 2);
  assert.equal(backInRust.count_by_operator[16], 1);
  assert.equal(backInRust.mean_improvement, buffer.mean_improvement());
});

test('damaged state is refused on both sides', () => {
  const file = join(DIR, 'damaged.bin');
  rust('write', 'scoped', file);
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1] ^= 0x10;
  writeFileSync(file, bytes);
  assert.throws(() => WasmScopedLoRA.from_bytes(bytes), (e) => e instanceof Error && /checksum/.test(e.message));
  assert.throws(() => execFileSync(RUST, ['read', 'scoped', file], { stdio: 'pipe' }), /checksum/);
  // The wrong kind is named, not silently reinterpreted.
  rust('write', 'trajectory', file);
  assert.throws(() => WasmMicroLoRA.from_bytes(readFileSync(file)), /TrajectoryBuffer/);
});
