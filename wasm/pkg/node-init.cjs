'use strict';
// How both Node.js entries (node.js, the ES module; node.cjs, CommonJS) instantiate the module:
// with their glue's `init` and `initSync`, except that without a module (or with a `file:` URL)
// they read the .wasm file with `fs`, since Node's `fetch` cannot read `file:` URLs.
const { readFile } = require('node:fs/promises');
const { readFileSync } = require('node:fs');

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
 * `init` and `initSync` over a glue's `glueInit` and `glueInitSync`, reading `wasmUrl` (the
 * `file:` URL of the .wasm) when they are called without a module.
 */
function nodeInit(glueInit, glueInitSync, wasmUrl) {
  /**
   * Instantiates the module. Without an argument (or with a `file:` URL) it reads the .wasm with
   * `fs`; anything else (bytes, a `WebAssembly.Module`, a `Response`, an http URL) is passed on.
   */
  async function init(module_or_path) {
    let source = moduleArgument(module_or_path, 'module_or_path');
    if (source === undefined) source = wasmUrl;
    if (isFileUrl(source)) source = await readFile(new URL(source));
    return glueInit({ module_or_path: source });
  }

  /** Instantiates the module synchronously; without an argument it reads the .wasm with `fs`. */
  function initSync(module) {
    let source = moduleArgument(module, 'module');
    if (source === undefined) source = readFileSync(wasmUrl);
    return glueInitSync({ module: source });
  }

  return { init, initSync };
}

module.exports = { nodeInit };
