// An ES module TypeScript consumer, type-checked (not run) under "nodenext" and "bundler"
// resolution: the names it imports, their argument and return types, and one call the package's
// declarations must refuse.
import init, { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer, type InitOutput } from 'ruvector-learning-wasm';

const instance: InitOutput = await init();
const memory: WebAssembly.Memory = instance.memory;
const lora = new WasmMicroLoRA(8, 0.5, 0.05);
const output: Float32Array = lora.forward_array(new Float32Array(8));
lora.adapt_array(output);
const forwards: bigint = lora.forward_count();
const restored: WasmMicroLoRA = WasmMicroLoRA.from_bytes(lora.to_bytes());
const scope: string = WasmScopedLoRA.scope_name(5);
const buffer = new WasmTrajectoryBuffer(10, 8);
buffer.record(output, 5, 0, 100, 150);
const improvement: number = buffer.mean_improvement();
// @ts-expect-error: forward_array takes a Float32Array, not a string.
lora.forward_array('not an array');

export const checked = [memory, forwards, restored, scope, improvement];
