// The Node.js entry of ruvector-learning-wasm (selected by the "node" condition of package.json).
// It is the web build with one difference: `init()` and `initSync()` called without a module read
// the .wasm file next to this one with `fs`, since Node's `fetch` cannot read `file:` URLs.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import initWeb, { initSync as initSyncWeb } from './ruvector_learning_wasm.js';

export * from './ruvector_learning_wasm.js';

const WASM_URL = new URL('./ruvector_learning_wasm_bg.wasm', import.meta.url);

/** The module argument of `init`/`initSync`, unwrapped from the `{ [key]: value }` form. */
function moduleArgument(argument, key) {
  if (argument !== null && typeof argument === 'object' && Object.getPrototypeOf(argument) === Object.prototype) {
    return argument[key];
  }
  return argument;
}

/** A `file:` URL (as a `URL` or a string), which Node's `fetch` cannot load. */
function isFileUrl(value) {
  return (value instanceof URL && value.protocol === 'file:') ||
    (typeof value === 'string' && value.startsWith('file:'));
}

/**
 * Instantiates the module. Without an argument (or with a `file:` URL) it reads the .wasm with
 * `fs`; anything else (bytes, a `WebAssembly.Module`, a `Response`, an http URL) is passed on.
 */
export default async function init(module_or_path) {
  let source = moduleArgument(module_or_path, 'module_or_path');
  if (source === undefined) source = WASM_URL;
  if (isFileUrl(source)) source = await readFile(new URL(source));
  return initWeb({ module_or_path: source });
}

/** Instantiates the module synchronously; without an argument it reads the .wasm with `fs`. */
export function initSync(module) {
  let source = moduleArgument(module, 'module');
  if (source === undefined) source = readFileSync(WASM_URL);
  return initSyncWeb({ module: source });
}
