// The seed README's WasmMicroLoRA examples, run as written, with assertions on what they do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printed } from './console-capture.mjs';

// ---- README: WasmMicroLoRA (verbatim from here) ----
import init, { WasmMicroLoRA } from 'ruvector-learning-wasm';

// Initialize WASM module

await init();
// ---- (the rest of the example is below, inside the test) ----

test('README: the main WasmMicroLoRA example runs and prints the expected statistics', async () => {
  let before, after, out, inp;
  const logs = await printed(() => {
    // Create a new MicroLoRA engine

    const lora = new WasmMicroLoRA(

    256, // dim: Embedding dimension (max 256)

    0.1, // alpha: Scaling factor

    0.01 // learning_rate: Learning rate for adaptation

    );

    // Forward pass with typed array

    const input = new Float32Array(256).fill(1.0);

    const output = lora.forward_array(input);

    // Adapt with gradient

    const gradient = new Float32Array(256).fill(0.1);

    lora.adapt_array(gradient);

    // Get statistics

    console.log('Forward count:', lora.forward_count());

    console.log('Adapt count:', lora.adapt_count());

    console.log('Delta norm:', lora.delta_norm());

    console.log('Parameter count:', lora.param_count());

    before = lora.forward_array(input);
    // Reset engine

    lora.reset();

    after = lora.forward_array(input);
    out = output;
    inp = input;
  });
  assert.ok(out instanceof Float32Array);
  assert.deepEqual(out, inp, 'a fresh adapter is the identity');
  assert.equal(logs.get('Forward count:'), 1n);
  assert.equal(logs.get('Adapt count:'), 1n);
  assert.equal(typeof logs.get('Delta norm:'), 'number');
  assert.ok(logs.get('Delta norm:') > 0, 'adapting changed the weights');
  assert.equal(logs.get('Parameter count:'), 1024);
  assert.notDeepEqual(before, inp, 'the adapted adapter is no longer the identity');
  assert.deepEqual(after, inp, 'reset returns to the identity');
});

test('README: the zero-allocation example runs as written', async () => {
  const myInputData = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i));
  let result, resultAfterAdapt;
  // ---- README: Zero-Allocation API (verbatim) ----
  {
    const lora = new WasmMicroLoRA(256, 0.1, 0.01);

    // Get buffer pointers

    const inputPtr = lora.get_input_ptr();

    const outputPtr = lora.get_output_ptr();

    const dim = lora.dim();

    // Create views into WASM memory

    const memory = new Float32Array(lora.memory.buffer);

    const inputView = new Float32Array(memory.buffer, inputPtr, dim);

    const outputView = new Float32Array(memory.buffer, outputPtr, dim);

    // Write input directly

    inputView.set(myInputData);

    // Forward pass (zero allocation)

    lora.forward();

    // Read output directly

    result = outputView.slice();

    // Adapt using input buffer as gradient

    lora.adapt();

    // Adapt with reward (for RL)

    lora.adapt_with_reward(0.5); // improvement ratio

    // ---- (end of the example; checks follow) ----
    assert.equal(lora.forward_count(), 1n);
    assert.equal(lora.adapt_count(), 2n);
    lora.forward();
    resultAfterAdapt = outputView.slice();
    lora.free();
  }
  assert.deepEqual(result, myInputData, 'the first forward pass is the identity');
  // Both steps moved the output for myInputData toward myInputData itself.
  const dot = (a, b) => a.reduce((s, v, i) => s + v * b[i], 0);
  const moved = resultAfterAdapt.map((v, i) => v - myInputData[i]);
  assert.ok(dot(moved, myInputData) > 0, 'adapt() and adapt_with_reward(0.5) moved the output along the input');
});
