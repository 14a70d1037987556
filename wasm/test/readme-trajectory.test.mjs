// The seed README's WasmTrajectoryBuffer example, run as written, with assertions on what it does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printed } from './console-capture.mjs';

// ---- README: WasmTrajectoryBuffer (verbatim from here) ----
import init, { WasmTrajectoryBuffer } from 'ruvector-learning-wasm';

await init();
// ---- (the rest of the example is below, inside the test) ----

test('README: the WasmTrajectoryBuffer example runs and prints the expected statistics', async () => {
  let buf;
  const logs = await printed(() => {
    const buffer = new WasmTrajectoryBuffer(

    1000, // capacity: max trajectories to store

    256 // embedding_dim

    );

    // Record a trajectory

    const embedding = new Float32Array(256).fill(1.0);

    buffer.record(

    embedding,

    2, // op_type: HnswScan

    0, // attention_type

    100.0, // execution_ms

    150.0 // baseline_ms (improvement = 150/100 - 1 = 0.5)

    );

    // Get statistics

    console.log('Total count:', buffer.total_count());

    console.log('Buffer length:', buffer.len());

    console.log('Mean improvement:', buffer.mean_improvement());

    console.log('Best improvement:', buffer.best_improvement());

    console.log('Success rate:', buffer.success_rate());

    console.log('Best attention type:', buffer.best_attention());

    console.log('Variance:', buffer.variance());

    // Filter by quality

    console.log('High quality count:', buffer.high_quality_count(0.5));

    // Filter by operator

    console.log('HnswScan trajectories:', buffer.count_by_operator(2));

    // Reset buffer

    buffer.reset();

    buf = buffer;
  });
  assert.equal(logs.get('Total count:'), 1n);
  assert.equal(logs.get('Buffer length:'), 1);
  assert.equal(logs.get('Mean improvement:'), 0.5);
  assert.equal(logs.get('Best improvement:'), 0.5);
  assert.equal(logs.get('Success rate:'), 1);
  assert.equal(logs.get('Best attention type:'), 0);
  assert.equal(logs.get('Variance:'), 0);
  assert.equal(logs.get('High quality count:'), 1, 'quality (0.5 + 1) / 2 = 0.75 is above 0.5');
  assert.equal(logs.get('HnswScan trajectories:'), 1);
  assert.equal(buf.total_count(), 0n);
  assert.equal(buf.len(), 0);
  assert.equal(buf.is_empty(), true);
});
