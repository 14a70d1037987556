// The Node.js entry of ruvector-learning-wasm (selected by the "import" condition under "node" in
// package.json). It is the web build with one difference: `init()` and `initSync()` called without
// a module read the .wasm file next to this one with `fs` (node-init.cjs).
import initWeb, { initSync as initSyncWeb } from './ruvector_learning_wasm.js';
import { nodeInit } from './node-init.cjs';

export * from './ruvector_learning_wasm.js';

const entry = nodeInit(initWeb, initSyncWeb, new URL('./ruvector_learning_wasm_bg.wasm', import.meta.url));

/** Instantiates the module; without an argument it reads the .wasm with `fs`. */
export default entry.init;

/** Instantiates the module synchronously; without an argument it reads the .wasm with `fs`. */
export const initSync = entry.initSync;
