// Shared helpers of the test suite.
import assert from 'node:assert/strict';

/** Deterministic values in [-scale, scale). */
export function vector(length, seed, scale = 1) {
  const v = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return v;
}

export const dot = (a, b) => a.reduce((sum, v, i) => sum + v * b[i], 0);

/**
 * Asserts that `call` throws a JavaScript Error whose message matches `message`, and that the
 * object's whole state (its to_bytes) is the same afterwards.
 */
export function assertRefused(object, call, message) {
  const before = object.to_bytes();
  assert.throws(call, (error) => {
    assert.ok(error instanceof Error, `expected an Error, got ${error}`);
    assert.match(error.message, message);
    return true;
  });
  assert.deepEqual(object.to_bytes(), before, 'a refused call left the state unchanged');
}
