// The common case of `forward_array`, `adapt_array` and `record` (a Float32Array of the embedding
// dimension, which core accepts) taken in JavaScript. wasm-bindgen's methods for these calls copy
// the array from inside WebAssembly, by calls into JavaScript (`instanceof`, `length`, `set`, and
// `slice` for a result), and each such call costs more than the copy it makes. Here the array is
// copied with one `set` into the object's staging buffer, a `*_staged` method computes from it,
// and a result is one `slice` of the module's memory. Anything else goes to the generated method:
// a plain Array, a wrong length or something that is not an array, which it converts or refuses,
// and a call that the `*_staged` method refused (it answers 0 or false, having changed nothing),
// which it refuses again, now with the reason as an Error. So both ways run the same checks on the
// same values; the staging buffers are the object's own scratch space, never part of its state.
//
// build.sh appends this file to both of wasm-bindgen's glues (the ES module and the CommonJS
// one: wasm-bindgen's no-modules target, which has no snippets), after a line that names the
// glue's classes as `fastCallClasses`. `start` in src/boundary.rs calls `installFastCalls`, a
// name the glue resolves in its own scope, when the module is instantiated. Everything else here
// stays inside one function, so that no name meets the glue's own.
const installFastCalls = (() => {
  /** The module's `WebAssembly.Memory`. */
  let memory = null;
  /** A Float32Array over all of `memory`; growing the memory detaches it (byteLength 0). */
  let floats = null;

  /** A Float32Array over the module's memory, made anew after the memory grew. */
  function memoryFloats() {
    if (floats.byteLength === 0) floats = new Float32Array(memory.buffer);
    return floats;
  }

  /** Copies `array` (a Float32Array) to byte offset `at` of the module's memory. */
  function copyIn(array, at) {
    memoryFloats().set(array, at >>> 2);
  }

  /**
   * A new Float32Array holding `length` floats from byte offset `at` of the module's memory: made
   * with `new` and filled with `set` from a view, which measured about 100 ns (of about 750) less
   * than `slice()` of the memory's view, whose species lookup and range checks cost more than
   * the copy.
   */
  function copyOut(at, length) {
    const begin = at >>> 2;
    const output = new Float32Array(length);
    output.set(memoryFloats().subarray(begin, begin + length));
    return output;
  }

  /** The byte offset of `object`'s staging buffer if `array` is a Float32Array that fits it, else 0. */
  function stagingFor(object, array) {
    return array instanceof Float32Array ? object._stage(array.length) : 0;
  }

  /**
   * Replaces the methods; called once, when the module is instantiated. Number arguments are
   * converted (`+x`, as WebAssembly converts an f64 parameter) before anything else, as the
   * generated methods convert them on entry, and the converted numbers are what the generated
   * methods receive when they take the call.
   */
  return function installFastCalls(wasmMemory) {
    const { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } = fastCallClasses;
    memory = wasmMemory;
    floats = new Float32Array(memory.buffer);

    const lora = WasmMicroLoRA.prototype;
    const { forward_array: generatedForwardArray, adapt_array: generatedAdaptArray } = lora;
    lora.forward_array = function forward_array(input) {
      const at = stagingFor(this, input);
      if (at !== 0) {
        copyIn(input, at);
        const output = this._forward_staged();
        if (output !== 0) return copyOut(output, input.length);
      }
      return generatedForwardArray.call(this, input);
    };
    lora.adapt_array = function adapt_array(gradient) {
      const at = stagingFor(this, gradient);
      if (at !== 0) {
        copyIn(gradient, at);
        if (this._adapt_staged()) return;
      }
      generatedAdaptArray.call(this, gradient);
    };

    const scoped = WasmScopedLoRA.prototype;
    const { forward_array: generatedScopedForwardArray, adapt_array: generatedScopedAdaptArray } = scoped;
    scoped.forward_array = function forward_array(op_type, input) {
      const op = +op_type;
      const at = stagingFor(this, input);
      if (at !== 0) {
        copyIn(input, at);
        const output = this._forward_staged(op);
        if (output !== 0) return copyOut(output, input.length);
      }
      return generatedScopedForwardArray.call(this, op, input);
    };
    scoped.adapt_array = function adapt_array(op_type, gradient) {
      const op = +op_type;
      const at = stagingFor(this, gradient);
      if (at !== 0) {
        copyIn(gradient, at);
        if (this._adapt_staged(op)) return;
      }
      generatedScopedAdaptArray.call(this, op, gradient);
    };

    const trajectory = WasmTrajectoryBuffer.prototype;
    const generatedRecord = trajectory.record;
    trajectory.record = function record(embedding, op_type, attention_type, execution_ms, baseline_ms) {
      const op = +op_type, attention = +attention_type, execution = +execution_ms, baseline = +baseline_ms;
      const at = stagingFor(this, embedding);
      if (at !== 0) {
        copyIn(embedding, at);
        if (this._record_staged(op, attention, execution, baseline)) return;
      }
      generatedRecord.call(this, embedding, op, attention, execution, baseline);
    };
  };
})();
