// Types of the CommonJS entry (node.cjs): those of the Node.js ES module entry (node.d.ts), for
// the same exports of the CommonJS glue.
export * from './ruvector_learning_wasm.cjs';
import type { InitInput, InitOutput, SyncInitInput } from './ruvector_learning_wasm.cjs';

/** Instantiates the module; without an argument it reads the bundled .wasm file. */
export default function init(
  module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;

/** Instantiates the module synchronously; without an argument it reads the bundled .wasm file. */
export function initSync(module?: { module: SyncInitInput } | SyncInitInput): InitOutput;
