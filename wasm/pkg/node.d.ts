// Types of the Node.js entry (node.js): the web build's, except that `init` and `initSync` may be
// called without a module, in which case they read the .wasm file next to this one.
export * from './ruvector_learning_wasm.js';
import type { InitInput, InitOutput, SyncInitInput } from './ruvector_learning_wasm.js';

/** Instantiates the module; without an argument it reads the bundled .wasm file. */
export default function init(
  module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;

/** Instantiates the module synchronously; without an argument it reads the bundled .wasm file. */
export function initSync(module?: { module: SyncInitInput } | SyncInitInput): InitOutput;
