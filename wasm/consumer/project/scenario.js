// What each consumer in this project computes with the package, however it loaded it (import,
// require, a Vite bundle): one adapter's output before and after an adaptation, its saved state
// and a copy loaded from it, one scope and one trajectory record, and a refused argument. The
// results are plain JSON, so the test compares them across the ways of loading.
export function scenario({ WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer }) {
  const input = Float32Array.from({ length: 8 }, (_, i) => (i + 1) / 8);
  const gradient = Float32Array.from({ length: 8 }, (_, i) => (i % 2 ? 0.3 : -0.2));
  const lora = new WasmMicroLoRA(8, 0.5, 0.05);
  const before = lora.forward_array(input);
  lora.adapt_array(gradient);
  const after = lora.forward_array(input);
  const state = lora.to_bytes();

  const scoped = new WasmScopedLoRA(8);
  scoped.adapt_array(5, gradient);
  const buffer = new WasmTrajectoryBuffer(10, 8);
  buffer.record(input, 5, 0, 100, 150);

  let refusal = 'no error';
  try {
    new WasmMicroLoRA(0);
  } catch (error) {
    refusal = `${error instanceof Error}: ${error.message}`;
  }
  return {
    input: Array.from(input),
    gradient: Array.from(gradient),
    before: Array.from(before),
    after: Array.from(after),
    restored: Array.from(WasmMicroLoRA.from_bytes(state).forward_array(input)),
    state: Array.from(state),
    counts: [String(lora.forward_count()), String(lora.adapt_count())],
    scope: [WasmScopedLoRA.scope_name(5), String(scoped.adapt_count(5))],
    meanImprovement: buffer.mean_improvement(),
    refusal,
  };
}
