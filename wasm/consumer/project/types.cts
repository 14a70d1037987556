// A CommonJS TypeScript consumer (a .cts file), type-checked (not run) under "nodenext" and
// "bundler" resolution: the package through `import = require()`, which loads its "require"
// entry, and one call the package's declarations must refuse.
import pkg = require('ruvector-learning-wasm');

export async function adapted(input: Float32Array): Promise<Float32Array> {
  const instance: pkg.InitOutput = await pkg.default();
  const memory: WebAssembly.Memory = instance.memory;
  const lora = new pkg.WasmMicroLoRA(input.length, 0.5, 0.05);
  lora.forward_array(input);
  lora.adapt_array(input);
  // @ts-expect-error: adapt_count takes no argument.
  lora.adapt_count(memory);
  return lora.forward_array(input);
}
