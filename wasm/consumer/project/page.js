// The page Vite bundles: the package imported by name and instantiated with `await init()`, which
// fetches the .wasm that Vite emitted as an asset. The test reads window.__results.
import init, { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } from 'ruvector-learning-wasm';
import { scenario } from './scenario.js';

const instance = await init();
window.__results = {
  hasMemory: instance.memory instanceof WebAssembly.Memory,
  ...scenario({ WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer }),
};
