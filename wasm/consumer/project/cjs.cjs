// A CommonJS consumer in Node.js: the package loaded with require(), instantiated with
// `await init()` or, given the argument `initSync`, with `initSync()`. Prints what it computed,
// the file require() loaded and the names the package exports, as JSON.
const pkg = require('ruvector-learning-wasm');
const { default: init, initSync, WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } = pkg;

async function main() {
  const instance = process.argv[2] === 'initSync' ? initSync() : await init();
  // scenario.js is this project's own ES module; import() loads it on every Node.js.
  const { scenario } = await import('./scenario.js');
  console.log(JSON.stringify({
    entry: require.resolve('ruvector-learning-wasm'),
    exportNames: Object.keys(pkg).sort(),
    hasMemory: instance.memory instanceof WebAssembly.Memory,
    ...scenario({ WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer }),
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
