// An ES module consumer in Node.js: the package imported by name, instantiated with `await init()`.
// Prints what it computed, and which file the package name resolved to, as JSON.
import init, { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } from 'ruvector-learning-wasm';
import { scenario } from './scenario.js';

const instance = await init();
console.log(JSON.stringify({
  entry: import.meta.resolve('ruvector-learning-wasm'),
  hasMemory: instance.memory instanceof WebAssembly.Memory,
  ...scenario({ WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer }),
}));
