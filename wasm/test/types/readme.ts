// Type-checked by types.test.mjs against the package's declarations: the seed README's examples
// must compile unchanged, and the declared types must be the documented ones.
import init, { initSync, WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } from 'ruvector-learning-wasm';

declare const myInputData: Float32Array;

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T>(_: T) {}

export async function microLoRA() {
  await init();
  const lora = new WasmMicroLoRA(256, 0.1, 0.01);
  const input = new Float32Array(256).fill(1.0);
  const output = lora.forward_array(input);
  const gradient = new Float32Array(256).fill(0.1);
  lora.adapt_array(gradient);
  console.log('Forward count:', lora.forward_count());
  console.log('Adapt count:', lora.adapt_count());
  console.log('Delta norm:', lora.delta_norm());
  console.log('Parameter count:', lora.param_count());
  lora.reset();

  expectType<true>(true as Equal<typeof output, Float32Array>);
  expectType<true>(true as Equal<ReturnType<WasmMicroLoRA['forward_count']>, bigint>);
  expectType<true>(true as Equal<ReturnType<WasmMicroLoRA['adapt_count']>, bigint>);
  expectType<true>(true as Equal<ReturnType<WasmMicroLoRA['param_count']>, number>);
  expectType<true>(true as Equal<ReturnType<WasmMicroLoRA['to_bytes']>, Uint8Array>);
  expectType<WasmMicroLoRA>(WasmMicroLoRA.from_bytes(lora.to_bytes()));
  expectType<WasmMicroLoRA>(new WasmMicroLoRA());
  // @ts-expect-error dim is a number
  new WasmMicroLoRA('256');
}

export function zeroAllocation() {
  const lora = new WasmMicroLoRA(256, 0.1, 0.01);
  const inputPtr = lora.get_input_ptr();
  const outputPtr = lora.get_output_ptr();
  const dim = lora.dim();
  const memory = new Float32Array(lora.memory.buffer);
  const inputView = new Float32Array(memory.buffer, inputPtr, dim);
  const outputView = new Float32Array(memory.buffer, outputPtr, dim);
  inputView.set(myInputData);
  lora.forward();
  const result = outputView.slice();
  lora.adapt();
  lora.adapt_with_reward(0.5);
  expectType<true>(true as Equal<WasmMicroLoRA['memory'], WebAssembly.Memory>);
  return result;
}

export async function scoped() {
  await init();
  const scopedLora = new WasmScopedLoRA(256, 0.1, 0.01);
  const HNSW_SCAN = 2;
  const FILTER = 9;
  const input = new Float32Array(256).fill(1.0);
  const output = scopedLora.forward_array(HNSW_SCAN, input);
  const gradient = new Float32Array(256).fill(0.1);
  scopedLora.adapt_array(FILTER, gradient);
  console.log('HNSW forward count:', scopedLora.forward_count(HNSW_SCAN));
  console.log('Filter adapt count:', scopedLora.adapt_count(FILTER));
  console.log('Filter delta norm:', scopedLora.delta_norm(FILTER));
  console.log('Total forwards:', scopedLora.total_forward_count());
  console.log('Total adapts:', scopedLora.total_adapt_count());
  console.log(WasmScopedLoRA.scope_name(HNSW_SCAN));
  scopedLora.set_category_fallback(true);
  scopedLora.reset_scope(FILTER);
  scopedLora.reset_all();

  expectType<true>(true as Equal<typeof output, Float32Array>);
  expectType<true>(true as Equal<ReturnType<WasmScopedLoRA['forward_count']>, bigint>);
  expectType<true>(true as Equal<ReturnType<WasmScopedLoRA['total_adapt_count']>, bigint>);
  expectType<true>(true as Equal<ReturnType<typeof WasmScopedLoRA.scope_name>, string>);
  expectType<number>(scopedLora.get_input_ptr() + scopedLora.get_output_ptr());
  scopedLora.forward(HNSW_SCAN);
  scopedLora.adapt(HNSW_SCAN);
  scopedLora.adapt_with_reward(HNSW_SCAN, 0.5);
}

export async function trajectory() {
  await init();
  const buffer = new WasmTrajectoryBuffer(1000, 256);
  const embedding = new Float32Array(256).fill(1.0);
  buffer.record(embedding, 2, 0, 100.0, 150.0);
  console.log('Total count:', buffer.total_count());
  console.log('Buffer length:', buffer.len());
  console.log('Mean improvement:', buffer.mean_improvement());
  console.log('Best improvement:', buffer.best_improvement());
  console.log('Success rate:', buffer.success_rate());
  console.log('Best attention type:', buffer.best_attention());
  console.log('Variance:', buffer.variance());
  console.log('High quality count:', buffer.high_quality_count(0.5));
  console.log('HnswScan trajectories:', buffer.count_by_operator(2));
  buffer.reset();

  expectType<true>(true as Equal<ReturnType<WasmTrajectoryBuffer['total_count']>, bigint>);
  expectType<true>(true as Equal<ReturnType<WasmTrajectoryBuffer['len']>, number>);
  expectType<true>(true as Equal<ReturnType<WasmTrajectoryBuffer['is_empty']>, boolean>);
  expectType<true>(true as Equal<ReturnType<WasmTrajectoryBuffer['high_quality_count']>, number>);
  expectType<WasmTrajectoryBuffer>(new WasmTrajectoryBuffer());
}

export function initVariants(bytes: Uint8Array) {
  // In Node (this project's resolution), initSync may be called with or without a module.
  initSync();
  initSync({ module: bytes });
  return init({ module_or_path: bytes });
}
