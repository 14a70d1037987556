// The package's classes, WasmMicroLoRA, WasmScopedLoRA and WasmTrajectoryBuffer, over the module's
// numeric exports (src/abi.rs): an object holds the handle (the address) of its Rust value; array
// arguments are copied with one `set` into the object's staging buffer (a trajectory buffer's is
// the spare block of its ring, which moves with each record), whose address and length this file
// reads from the object's first bytes at each call; a refused call returns
// false, a null handle or a negative count, and its Error is made here from core's message
// (`take_error`). So each call is one call into WebAssembly, and the module carries no per-method
// glue: wasm-bindgen generates the loader (init, initSync) only.
//
// build.sh appends this file to both of wasm-bindgen's glues (the ES module, and the CommonJS one
// from its no-modules target, which has no snippets) and exports the classes from each. `start` in
// src/lib.rs calls `installApi` when the module is instantiated; the glue resolves the name in its
// own scope. `installApi` takes the exports from `glueExports`, which build.sh defines before this
// file: the glue's own `initSync`, which returns the exports once the glue holds them (as it does
// before it runs `start`). Everything else stays inside one function, so that no name meets the
// glue's own.
//
// Numbers are converted (`+x`, which throws for a BigInt or a Symbol as WebAssembly's conversion
// of an f64 parameter does) in the order of the parameters, before anything else, so that any
// JavaScript a conversion runs sees the object between calls. A handle is read after them: a
// freed object (handle 0) throws wasm-bindgen's 'null pointer passed to rust', and a method
// called on an object of another class throws a TypeError (each class keys its objects' handles
// with a symbol of its own).
const { installApi, WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } = (() => {
  /** The module's exports (src/abi.rs and the classes' files). */
  let raw = null;
  /** The module's `WebAssembly.Memory`, and views over all of it; growth detaches them. */
  let memory = null;
  let bytes = new Uint8Array(0);
  let words = new Uint32Array(0);
  let floats = new Float32Array(0);
  let doubles = new Float64Array(0);
  const decoder = new TextDecoder();

  /**
   * Makes the views anew if the memory grew since they were made (they are then empty). Checked
   * by `length`: V8 (Node.js 20) inlines it, but not `byteLength`, which took 7.5 ns a call.
   */
  function views() {
    if (words.length === 0) {
      const buffer = memory.buffer;
      bytes = new Uint8Array(buffer);
      words = new Uint32Array(buffer);
      floats = new Float32Array(buffer);
      doubles = new Float64Array(buffer);
    }
  }

  function installApi() {
    raw = glueExports();
    memory = raw.memory;
    words = new Uint32Array(0);
    views();
  }

  /** The UTF-8 text of `len` bytes at `at`. */
  function text(at, len) {
    return decoder.decode(bytes.subarray(at, at + len));
  }

  /** The record at `at` (src/abi.rs, PieceRecord: 24 bytes) as [kind, text, length]. */
  function record(at) {
    const word = at >>> 2;
    return [words[word], words[word + 1], words[word + 2]];
  }

  /** The Error of the latest refusal: core's message, its numbers as JavaScript writes them. */
  function refused() {
    const at = raw.take_error() >>> 0;
    views();
    let message = '';
    for (let piece = at; piece < at + 5 * 24; piece += 24) {
      const [kind, textAt, length] = record(piece);
      if (kind === 1) message += text(textAt, length);
      else if (kind === 2) message += String(doubles[(piece + 16) >>> 3]);
    }
    return new Error(message);
  }

  const nullPointer = () => new Error('null pointer passed to rust');

  /** The module's exports, or a clear Error if it is not instantiated yet. */
  function instantiated() {
    if (raw === null) {
      throw new Error('ruvector-learning-wasm is not initialised: await init() (or call initSync()) first');
    }
    return raw;
  }

  /** An optional number as the pair the exports take: [given, value]; undefined and null are omitted. */
  function optional(value) {
    return value === undefined || value === null ? [0, 0] : [1, +value];
  }

  /** The argument names, by the number src/abi.rs's `refuse_length` takes. */
  const ARGUMENTS = ['input', 'gradient', 'embedding'];

  const notAnArray = (argument) =>
    new Error(`${ARGUMENTS[argument]} must be a Float32Array (or an Array of numbers)`);

  /**
   * `value` as a Float32Array: itself, or a plain Array converted (its elements as by
   * `Number(element)`; non-numbers become NaN, which core refuses). Anything else, or an element
   * that cannot become a number (a BigInt, a Symbol), is refused with an Error naming the argument.
   */
  function floatsOf(value, argument) {
    if (value instanceof Float32Array) return value;
    if (Array.isArray(value)) {
      try {
        return Float32Array.from(value);
      } catch {
        // Refused below, as anything else that is not an array of numbers.
      }
    }
    throw notAnArray(argument);
  }

  /**
   * Copies `values` to the staging input of the object at `handle`, or throws core's refusal of
   * its length. `checkFirst` refuses the call's numbers before that, as core would.
   */
  function stage(handle, values, argument, checkFirst) {
    views();
    const word = handle >>> 2;
    const dim = words[word + 2];
    if (values.length !== dim) {
      checkFirst();
      raw.refuse_length(argument, dim, values.length);
      throw refused();
    }
    floats.set(values, words[word] >>> 2);
  }

  /**
   * Copies `array` to the staging input of the object at `handle` if it is a Float32Array of its
   * length, the common case, and says whether it did: no closure, no conversion.
   */
  function staged(handle, array) {
    if (!(array instanceof Float32Array)) return false;
    views();
    const word = handle >>> 2;
    if (array.length !== words[word + 2]) return false;
    floats.set(array, words[word] >>> 2);
    return true;
  }

  /**
   * A view of the staging output of the object at `handle`. The classes keep it (until growth
   * detaches it, which leaves it empty): making a view per call, with `subarray`, cost 100-250 ns
   * of a `forward_array` of about 600-1100.
   */
  function outputView(handle) {
    views();
    const word = handle >>> 2;
    const begin = words[word + 1] >>> 2;
    return floats.subarray(begin, begin + words[word + 2]);
  }

  /** A new Float32Array holding the values of `view`: `new` and `set`, the cheapest way. */
  function copied(view) {
    const result = new Float32Array(view.length);
    result.set(view);
    return result;
  }

  /** `bytes` (a Uint8Array or an Array of numbers) copied into a block of the module: [at, length]. */
  function bytesIn(source) {
    const length = source.length >>> 0;
    const at = instantiated().bytes_alloc(length) >>> 0;
    if (at === 0) throw new Error(`bytes: ${length} bytes do not fit in WebAssembly memory`);
    views();
    try {
      bytes.set(source, at);
    } catch (error) {
      raw.bytes_free(at, length);
      throw error;
    }
    return [at, length];
  }

  /** The bytes that a `*_to_bytes` export handed over at `at`, copied out; the block is freed. */
  function bytesOut(at) {
    views();
    const [, begin, length] = record(at >>> 0);
    const result = bytes.slice(begin, begin + length);
    raw.bytes_free(begin, length);
    return result;
  }

  /**
   * What the methods of one class share: the name of its exports (`lora_free`, ...), the key of
   * its objects' handle, which no other class's objects have (a symbol: not in `Object.keys`, nor
   * in JSON), and the registry that frees the Rust value of an object collected without `free()`.
   */
  function kind(name, exports) {
    const handle = Symbol(`${name} handle`);
    const finalizer = typeof FinalizationRegistry === 'undefined'
      ? { register() {}, unregister() {} }
      : new FinalizationRegistry((address) => raw[`${exports}_free`](address));
    return { name, exports, handle, output: Symbol(`${name} output`), finalizer };
  }
  const LORA = kind('WasmMicroLoRA', 'lora');
  const SCOPED = kind('WasmScopedLoRA', 'scoped');
  const TRAJECTORY = kind('WasmTrajectoryBuffer', 'trajectory');

  /**
   * The handle of `object`, a live object of `kind`'s class: a freed one throws wasm-bindgen's
   * 'null pointer passed to rust', anything else a TypeError (so no export ever receives the
   * address of another class's value).
   */
  function handleOf(object, kind) {
    const handle = object === null || object === undefined ? undefined : object[kind.handle];
    if (typeof handle !== 'number') throw new TypeError(`not a ${kind.name}`);
    if (handle === 0) throw nullPointer();
    return handle;
  }

  /** Makes `object` the owner of `handle` from a constructor or `from_bytes` (0: refused). */
  function adopt(object, kind, handle) {
    if (handle === 0) throw refused();
    object[kind.handle] = handle;
    object[kind.output] = null;
    kind.finalizer.register(object, handle, object);
  }

  /** `free()`: releases the Rust value once; a freed object refuses every call after it. */
  function release(object, kind) {
    const handle = object[kind.handle];
    if (typeof handle !== 'number') throw new TypeError(`not a ${kind.name}`);
    object[kind.handle] = 0;
    object[kind.output] = null;
    kind.finalizer.unregister(object);
    if (handle !== 0) raw[`${kind.exports}_free`](handle);
  }

  /** The handle of a new adapter (`lora_new`/`scoped_new`) from the constructor's arguments. */
  function newAdapter(kind, dim, alpha, learningRate) {
    const [dimGiven, dimValue] = optional(dim);
    const [alphaGiven, alphaValue] = optional(alpha);
    const [rateGiven, rateValue] = optional(learningRate);
    return instantiated()[`${kind.exports}_new`](dimGiven, dimValue, alphaGiven, alphaValue, rateGiven, rateValue) >>> 0;
  }

  /** The handle of an object loaded from `bytes` (0 if they are not a state of its class). */
  function loaded(kind, bytes) {
    return instantiated()[`${kind.exports}_from_bytes`](...bytesIn(bytes)) >>> 0;
  }

  /** `to_bytes()`. */
  function saved(object, kind) {
    return bytesOut(raw[`${kind.exports}_to_bytes`](handleOf(object, kind)));
  }

  /** The embedding dimension of the object at `handle` (its staging length). */
  function dimOf(handle) {
    views();
    return words[(handle >>> 2) + 2];
  }

  /**
   * Stages the array argument of `object`'s call: `array` itself if it is a Float32Array of the
   * object's length (the common case: no conversion), else through `floatsOf` and `stage`, after
   * `checkFirst(first, second)`, which refuses the call's numbers before the array is read, as
   * core would. The handle, read again after a conversion (which may run JavaScript). The checks
   * are functions of their numbers, not closures over them, so that no call allocates one.
   */
  function stagedArgument(object, kind, array, argument, checkFirst, first, second) {
    let handle = handleOf(object, kind);
    if (staged(handle, array)) return handle;
    const check = () => checkFirst(first, second);
    if (!(array instanceof Float32Array)) check();
    const values = floatsOf(array, argument);
    handle = handleOf(object, kind);
    stage(handle, values, argument, check);
    return handle;
  }

  /** A new Float32Array of `object`'s staging output, through the view the object keeps. */
  function result(object, kind, handle) {
    let view = object[kind.output];
    if (view === null || view.length === 0) view = object[kind.output] = outputView(handle);
    return copied(view);
  }

  /** The checks of `stagedArgument`: nothing, op_type, or op_type and attention_type. */
  const nothingFirst = () => {};
  const opTypeFirst = (op) => {
    if (!raw.check_op_type(op)) throw refused();
  };
  const recordNumbersFirst = (op, attention) => {
    if (!raw.check_record_numbers(op, attention)) throw refused();
  };

  /** The constructors' first argument when `from_bytes` wraps a handle (not reachable from outside). */
  const WRAP = Symbol('handle');

  /**
   * A single rank-2 LoRA adapter, `out = x + α·(x·A)·B`. See js/api.d.ts for every method.
   */
  class WasmMicroLoRA {
    constructor(dim, alpha, learning_rate) {
      adopt(this, LORA, dim === WRAP ? alpha : newAdapter(LORA, dim, alpha, learning_rate));
    }

    free() {
      release(this, LORA);
    }

    static from_bytes(bytes) {
      return new WasmMicroLoRA(WRAP, loaded(LORA, bytes));
    }

    to_bytes() {
      return saved(this, LORA);
    }

    get memory() {
      handleOf(this, LORA);
      return memory;
    }

    get_input_ptr() {
      return raw.lora_input_ptr(handleOf(this, LORA)) >>> 0;
    }

    get_output_ptr() {
      return raw.lora_output_ptr(handleOf(this, LORA)) >>> 0;
    }

    dim() {
      return dimOf(handleOf(this, LORA));
    }

    forward() {
      if (!raw.lora_forward(handleOf(this, LORA))) throw refused();
    }

    forward_array(input) {
      const handle = stagedArgument(this, LORA, input, 0, nothingFirst);
      if (!raw.lora_forward_staged(handle)) throw refused();
      return result(this, LORA, handle);
    }

    adapt() {
      if (!raw.lora_adapt(handleOf(this, LORA))) throw refused();
    }

    adapt_array(gradient) {
      const handle = stagedArgument(this, LORA, gradient, 1, nothingFirst);
      if (!raw.lora_adapt_staged(handle)) throw refused();
    }

    adapt_with_reward(improvement) {
      const value = +improvement;
      if (!raw.lora_adapt_with_reward(handleOf(this, LORA), value)) throw refused();
    }

    reset() {
      raw.lora_reset(handleOf(this, LORA));
    }

    forward_count() {
      return BigInt.asUintN(64, raw.lora_forward_count(handleOf(this, LORA)));
    }

    adapt_count() {
      return BigInt.asUintN(64, raw.lora_adapt_count(handleOf(this, LORA)));
    }

    delta_norm() {
      return raw.lora_delta_norm(handleOf(this, LORA));
    }

    param_count() {
      return raw.lora_param_count(handleOf(this, LORA)) >>> 0;
    }
  }

  /**
   * 17 operator adapters (`op_type` 0..=16) backed by 7 category adapters. See js/api.d.ts.
   * A refused `op_type` reads as a negative count or norm from the exports that return one.
   */
  class WasmScopedLoRA {
    constructor(dim, alpha, learning_rate) {
      adopt(this, SCOPED, dim === WRAP ? alpha : newAdapter(SCOPED, dim, alpha, learning_rate));
    }

    free() {
      release(this, SCOPED);
    }

    static from_bytes(bytes) {
      return new WasmScopedLoRA(WRAP, loaded(SCOPED, bytes));
    }

    static scope_name(op_type) {
      const op = +op_type;
      const at = instantiated().scope_name(op) >>> 0;
      if (at === 0) throw refused();
      views();
      const [, begin, length] = record(at);
      return text(begin, length);
    }

    to_bytes() {
      return saved(this, SCOPED);
    }

    get memory() {
      handleOf(this, SCOPED);
      return memory;
    }

    get_input_ptr() {
      return raw.scoped_input_ptr(handleOf(this, SCOPED)) >>> 0;
    }

    get_output_ptr() {
      return raw.scoped_output_ptr(handleOf(this, SCOPED)) >>> 0;
    }

    dim() {
      return dimOf(handleOf(this, SCOPED));
    }

    forward(op_type) {
      const op = +op_type;
      if (!raw.scoped_forward(handleOf(this, SCOPED), op)) throw refused();
    }

    forward_array(op_type, input) {
      const op = +op_type;
      const handle = stagedArgument(this, SCOPED, input, 0, opTypeFirst, op);
      if (!raw.scoped_forward_staged(handle, op)) throw refused();
      return result(this, SCOPED, handle);
    }

    adapt(op_type) {
      const op = +op_type;
      if (!raw.scoped_adapt(handleOf(this, SCOPED), op)) throw refused();
    }

    adapt_array(op_type, gradient) {
      const op = +op_type;
      const handle = stagedArgument(this, SCOPED, gradient, 1, opTypeFirst, op);
      if (!raw.scoped_adapt_staged(handle, op)) throw refused();
    }

    adapt_with_reward(op_type, improvement) {
      const op = +op_type, value = +improvement;
      if (!raw.scoped_adapt_with_reward(handleOf(this, SCOPED), op, value)) throw refused();
    }

    reset_scope(op_type) {
      const op = +op_type;
      if (!raw.scoped_reset_scope(handleOf(this, SCOPED), op)) throw refused();
    }

    reset_all() {
      raw.scoped_reset_all(handleOf(this, SCOPED));
    }

    forward_count(op_type) {
      const op = +op_type;
      const count = raw.scoped_forward_count(handleOf(this, SCOPED), op);
      if (count < 0n) throw refused();
      return count;
    }

    adapt_count(op_type) {
      const op = +op_type;
      const count = raw.scoped_adapt_count(handleOf(this, SCOPED), op);
      if (count < 0n) throw refused();
      return count;
    }

    delta_norm(op_type) {
      const op = +op_type;
      const norm = raw.scoped_delta_norm(handleOf(this, SCOPED), op);
      if (norm < 0) throw refused();
      return norm;
    }

    total_forward_count() {
      return BigInt.asUintN(64, raw.scoped_total_forward_count(handleOf(this, SCOPED)));
    }

    total_adapt_count() {
      return BigInt.asUintN(64, raw.scoped_total_adapt_count(handleOf(this, SCOPED)));
    }

    set_category_fallback(enabled) {
      raw.scoped_set_category_fallback(handleOf(this, SCOPED), enabled);
    }
  }

  /**
   * The latest `capacity` executions, with statistics over every record since the last reset.
   * See js/api.d.ts. A refused argument reads as a negative count from the exports that return one.
   */
  class WasmTrajectoryBuffer {
    constructor(capacity, embedding_dim) {
      if (capacity === WRAP) {
        adopt(this, TRAJECTORY, embedding_dim);
        return;
      }
      const [capacityGiven, capacityValue] = optional(capacity);
      const [dimGiven, dimValue] = optional(embedding_dim);
      adopt(this, TRAJECTORY, instantiated().trajectory_new(capacityGiven, capacityValue, dimGiven, dimValue) >>> 0);
    }

    free() {
      release(this, TRAJECTORY);
    }

    static from_bytes(bytes) {
      return new WasmTrajectoryBuffer(WRAP, loaded(TRAJECTORY, bytes));
    }

    to_bytes() {
      return saved(this, TRAJECTORY);
    }

    record(embedding, op_type, attention_type, execution_ms, baseline_ms) {
      const op = +op_type, attention = +attention_type, execution = +execution_ms, baseline = +baseline_ms;
      const handle = stagedArgument(this, TRAJECTORY, embedding, 2, recordNumbersFirst, op, attention);
      if (!raw.trajectory_record(handle, op, attention, execution, baseline)) throw refused();
    }

    total_count() {
      return BigInt.asUintN(64, raw.trajectory_total_count(handleOf(this, TRAJECTORY)));
    }

    len() {
      return raw.trajectory_len(handleOf(this, TRAJECTORY)) >>> 0;
    }

    is_empty() {
      return this.len() === 0;
    }

    mean_improvement() {
      return raw.trajectory_mean_improvement(handleOf(this, TRAJECTORY));
    }

    best_improvement() {
      return raw.trajectory_best_improvement(handleOf(this, TRAJECTORY));
    }

    success_rate() {
      return raw.trajectory_success_rate(handleOf(this, TRAJECTORY));
    }

    best_attention() {
      return raw.trajectory_best_attention(handleOf(this, TRAJECTORY)) >>> 0;
    }

    variance() {
      return raw.trajectory_variance(handleOf(this, TRAJECTORY));
    }

    reset() {
      raw.trajectory_reset(handleOf(this, TRAJECTORY));
    }

    high_quality_count(threshold) {
      const value = +threshold;
      const count = raw.trajectory_high_quality_count(handleOf(this, TRAJECTORY), value);
      if (count < 0) throw refused();
      return count;
    }

    count_by_operator(op_type) {
      const op = +op_type;
      const count = raw.trajectory_count_by_operator(handleOf(this, TRAJECTORY), op);
      if (count < 0) throw refused();
      return count;
    }
  }

  for (const Class of [WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer]) {
    if (Symbol.dispose) Class.prototype[Symbol.dispose] = Class.prototype.free;
  }

  return { installApi, WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer };
})();
