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
// called on an object of another class throws a TypeError (a private field's brand check).
const { installApi, WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } = (() => {
  // As in the ES module, also where build.sh appends this file to the CommonJS glue (a script).
  'use strict';
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
   * Where this file reads the structs it shares with the module by layout, in bytes (src/abi.rs,
   * `Layout`): the input, output and dim of the Staging at an object's handle; the kind, text,
   * length and number of a PieceRecord, its size, and the number of records in a message.
   * Constants, so that the hot paths read no variable for them; `installApi` checks them
   * against the module's own `Layout`, which it derives from the structs.
   */
  const STAGING_INPUT = 0, STAGING_OUTPUT = 4, STAGING_DIM = 8;
  const RECORD_KIND = 0, RECORD_TEXT = 4, RECORD_LENGTH = 8, RECORD_NUMBER = 16, RECORD_SIZE = 24;
  const MESSAGE_RECORDS = 5;
  /** The constants above in the order of the fields of src/abi.rs's `Layout`. */
  const LAYOUT = [STAGING_INPUT, STAGING_OUTPUT, STAGING_DIM, RECORD_KIND, RECORD_TEXT, RECORD_LENGTH,
    RECORD_NUMBER, RECORD_SIZE, MESSAGE_RECORDS];

  /**
   * Makes the views anew if the memory grew since they were made (they are then empty). Checked
   * by `length`, which V8 inlines, and not `byteLength`, which it calls.
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
    const layout = raw.abi_layout() >>> 2;
    if (LAYOUT.some((offset, field) => words[layout + field] !== offset)) {
      raw = null;
      throw new Error('ruvector-learning-wasm: the .wasm and its JavaScript disagree on the layout of the ' +
        'structs they share: they come from different builds');
    }
  }

  /** The UTF-8 text of `len` bytes at `at`. */
  function text(at, len) {
    return decoder.decode(bytes.subarray(at, at + len));
  }

  /** The PieceRecord at `at` as [kind, text, length]. */
  function record(at) {
    return [words[(at + RECORD_KIND) >>> 2], words[(at + RECORD_TEXT) >>> 2], words[(at + RECORD_LENGTH) >>> 2]];
  }

  /** The Error of the latest refusal: core's message, its numbers as JavaScript writes them. */
  function refused() {
    const at = raw.take_error() >>> 0;
    views();
    let message = '';
    for (let piece = at; piece < at + MESSAGE_RECORDS * RECORD_SIZE; piece += RECORD_SIZE) {
      const [kind, textAt, length] = record(piece);
      if (kind === 1) message += text(textAt, length);
      else if (kind === 2) message += String(doubles[(piece + RECORD_NUMBER) >>> 3]);
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
   * Copies `values` (a Float32Array) to the staging input of the object at `handle`, or throws
   * core's refusal of its length. `checkFirst` refuses the call's numbers before that, as core
   * would.
   */
  function stage(handle, values, argument, checkFirst) {
    if (staged(handle, values)) return;
    checkFirst();
    raw.refuse_length(argument, dimOf(handle), values.length);
    throw refused();
  }

  /**
   * Copies `array` to the staging input of the object at `handle` if it is a Float32Array of its
   * length, the common case, and says whether it did: no closure, no conversion.
   */
  function staged(handle, array) {
    if (!(array instanceof Float32Array)) return false;
    views();
    if (array.length !== words[(handle + STAGING_DIM) >>> 2]) return false;
    floats.set(array, words[(handle + STAGING_INPUT) >>> 2] >>> 2);
    return true;
  }

  /**
   * A view of the staging output of the object at `handle`. The classes keep it (until growth
   * detaches it, which leaves it empty): a view made per call, with `subarray`, would be a
   * large share of a `forward_array`.
   */
  function outputView(handle) {
    views();
    const begin = words[(handle + STAGING_OUTPUT) >>> 2] >>> 2;
    return floats.subarray(begin, begin + words[(handle + STAGING_DIM) >>> 2]);
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
   * What the methods of one class share: the exports that every class has its own of (`create`,
   * `inputPtr` and `outputPtr` for the adapters), and the registry that frees the Rust value of
   * an object collected without `free()`. Every export this file reads is written out as
   * `raw.<name>` (or `instantiated().<name>`), never built from parts: test/exports.test.mjs
   * compares those names with the module's exports.
   */
  function kind(exports) {
    const finalizer = typeof FinalizationRegistry === 'undefined'
      ? { register() {}, unregister() {} }
      : new FinalizationRegistry((handle) => exports.free(handle));
    return { ...exports, finalizer };
  }
  const LORA = kind({
    create: (...numbers) => instantiated().lora_new(...numbers),
    fromBytes: (at, length) => raw.lora_from_bytes(at, length),
    toBytes: (handle) => raw.lora_to_bytes(handle),
    free: (handle) => raw.lora_free(handle),
    inputPtr: (handle) => raw.lora_input_ptr(handle),
    outputPtr: (handle) => raw.lora_output_ptr(handle),
  });
  const SCOPED = kind({
    create: (...numbers) => instantiated().scoped_new(...numbers),
    fromBytes: (at, length) => raw.scoped_from_bytes(at, length),
    toBytes: (handle) => raw.scoped_to_bytes(handle),
    free: (handle) => raw.scoped_free(handle),
    inputPtr: (handle) => raw.scoped_input_ptr(handle),
    outputPtr: (handle) => raw.scoped_output_ptr(handle),
  });
  const TRAJECTORY = kind({
    fromBytes: (at, length) => raw.trajectory_from_bytes(at, length),
    toBytes: (handle) => raw.trajectory_to_bytes(handle),
    free: (handle) => raw.trajectory_free(handle),
  });

  // Each class keeps its objects' handle in a private field of its own, read only in the class's
  // methods (and in the functions it makes in its body for `defineAdapterMethods`): a method
  // called on another object throws a TypeError (the field's brand check) before any export can
  // receive another class's address, and each read site sees one class. So the functions here
  // take handles, not objects: taking objects, they would have to find a handle by its class.

  /** A live object's handle: a freed one (0) throws wasm-bindgen's 'null pointer passed to rust'. */
  function live(handle) {
    if (handle === 0) throw nullPointer();
    return handle;
  }

  /** The handle from a constructor or `from_bytes` (0: refused) for `object`, now its owner. */
  function adopted(object, kind, handle) {
    if (handle === 0) throw refused();
    kind.finalizer.register(object, handle, object);
    return handle;
  }

  /** `free()`: releases the Rust value of `object` (handle 0: already freed). */
  function released(object, kind, handle) {
    kind.finalizer.unregister(object);
    if (handle !== 0) kind.free(handle);
  }

  /** The handle of a new adapter (`lora_new`/`scoped_new`) from the constructor's arguments. */
  function newAdapter(kind, dim, alpha, learningRate) {
    const [dimGiven, dimValue] = optional(dim);
    const [alphaGiven, alphaValue] = optional(alpha);
    const [rateGiven, rateValue] = optional(learningRate);
    return kind.create(dimGiven, dimValue, alphaGiven, alphaValue, rateGiven, rateValue) >>> 0;
  }

  /** The handle of an object loaded from `bytes` (0 if they are not a state of its class). */
  function loaded(kind, bytes) {
    instantiated();
    return kind.fromBytes(...bytesIn(bytes)) >>> 0;
  }

  /** `to_bytes()` of the object at `handle`. */
  function saved(kind, handle) {
    return bytesOut(kind.toBytes(handle));
  }

  /** The embedding dimension of the object at `handle` (its staging length). */
  function dimOf(handle) {
    views();
    return words[(handle + STAGING_DIM) >>> 2];
  }

  /**
   * Stages an array argument that `staged` did not take (a plain Array, a wrong length, anything
   * else) or throws why not, after `checkFirst(first, second)`, which refuses the call's numbers
   * before the array is read, as core would. `handleNow` reads the object's handle again after
   * the conversion, which may run JavaScript; its handle is returned. The classes call it from a
   * method of its own: a closure in the calling method would make V8 allocate a context for
   * every call, the common ones too.
   */
  function stagedOtherwise(handleNow, array, argument, checkFirst, first, second) {
    const check = () => checkFirst(first, second);
    if (!(array instanceof Float32Array)) check();
    const values = floatsOf(array, argument);
    const handle = handleNow();
    stage(handle, values, argument, check);
    return handle;
  }

  /** The checks of `stagedOtherwise`: nothing, op_type, or op_type and attention_type. */
  const nothingFirst = () => {};
  const opTypeFirst = (op) => {
    if (!raw.check_op_type(op)) throw refused();
  };
  const recordNumbersFirst = (op, attention) => {
    if (!raw.check_record_numbers(op, attention)) throw refused();
  };

  /** The output view to keep, `kept` or a new one if it is missing or detached (empty). */
  function keptOutput(kept, handle) {
    return kept === null || kept.length === 0 ? outputView(handle) : kept;
  }

  /** The constructors' first argument when `from_bytes` wraps a handle (not reachable from outside). */
  const WRAP = Symbol('handle');

  /**
   * Defines `members.methods` on `Class.prototype` and `members.statics` on `Class` as a class
   * body defines methods: non-enumerable, in the order written, after those already there.
   */
  function defineMembers(Class, { methods, statics = {} }) {
    for (const [target, defined] of [[Class.prototype, methods], [Class, statics]]) {
      for (const name of Object.keys(defined)) {
        Object.defineProperty(target, name, { ...Object.getOwnPropertyDescriptor(defined, name), enumerable: false });
      }
    }
  }

  /**
   * Defines the methods of an adapter class, `WasmMicroLoRA` or `WasmScopedLoRA`, over the
   * exports of `kind`: first those that both classes have, written here once, then the class's
   * own (`own.methods`, and `own.statics` if any). Each comes where a class body written out in
   * full would put it, so that each class keeps the own properties, their order and its
   * prototype (Object.prototype) that it had as one. The shared methods reach an object's
   * private fields through `access`, which the class makes in its own body: a method called on
   * an object of another class still throws that class's TypeError (the brand check of its
   * private fields) before any export receives a handle.
   * - `access.handleOf(object)`: the object's handle; throws if it was freed.
   * - `access.takeHandle(object)`: the object's handle (0 if freed), which it then forgets.
   */
  function defineAdapterMethods(Class, kind, { handleOf, takeHandle }, own) {
    defineMembers(Class, {
      methods: {
        free() {
          released(this, kind, takeHandle(this));
        },

        to_bytes() {
          return saved(kind, handleOf(this));
        },

        get memory() {
          handleOf(this);
          return memory;
        },

        get_input_ptr() {
          return kind.inputPtr(handleOf(this)) >>> 0;
        },

        get_output_ptr() {
          return kind.outputPtr(handleOf(this)) >>> 0;
        },

        dim() {
          return dimOf(handleOf(this));
        },
      },
      statics: {
        from_bytes(bytes) {
          return new Class(WRAP, loaded(kind, bytes));
        },
      },
    });
    defineMembers(Class, own);
  }

  /**
   * A single rank-2 LoRA adapter, `out = x + α·(x·A)·B`. See js/api.d.ts for every method.
   */
  class WasmMicroLoRA {
    #ptr = 0;
    /** A view of the staging output (see `outputView`), made at the first `forward_array`. */
    #output = null;

    constructor(dim, alpha, learning_rate) {
      this.#ptr = adopted(this, LORA, dim === WRAP ? alpha : newAdapter(LORA, dim, alpha, learning_rate));
    }

    #handle() {
      return live(this.#ptr);
    }

    /** `stagedOtherwise` for this object, out of the calls' common path (its closure is here). */
    #restaged(array, argument, checkFirst, first, second) {
      return stagedOtherwise(() => this.#handle(), array, argument, checkFirst, first, second);
    }

    // The methods, defined once the class exists (by a static field's initializer, which sees
    // the private fields; a static block would need newer engines than private methods do).
    static #methods = defineAdapterMethods(this, LORA, {
      handleOf: (object) => object.#handle(),
      takeHandle(object) {
        const handle = object.#ptr;
        object.#ptr = 0;
        object.#output = null;
        return handle;
      },
    }, {
      methods: {
        forward() {
          if (!raw.lora_forward(this.#handle())) throw refused();
        },

        forward_array(input) {
          let handle = this.#handle();
          if (!staged(handle, input)) handle = this.#restaged(input, 0, nothingFirst);
          if (!raw.lora_forward_staged(handle)) throw refused();
          return copied((this.#output = keptOutput(this.#output, handle)));
        },

        adapt() {
          if (!raw.lora_adapt(this.#handle())) throw refused();
        },

        adapt_array(gradient) {
          let handle = this.#handle();
          if (!staged(handle, gradient)) handle = this.#restaged(gradient, 1, nothingFirst);
          if (!raw.lora_adapt_staged(handle)) throw refused();
        },

        adapt_with_reward(improvement) {
          const value = +improvement;
          if (!raw.lora_adapt_with_reward(this.#handle(), value)) throw refused();
        },

        reset() {
          raw.lora_reset(this.#handle());
        },

        forward_count() {
          return BigInt.asUintN(64, raw.lora_forward_count(this.#handle()));
        },

        adapt_count() {
          return BigInt.asUintN(64, raw.lora_adapt_count(this.#handle()));
        },

        delta_norm() {
          return raw.lora_delta_norm(this.#handle());
        },

        param_count() {
          return raw.lora_param_count(this.#handle()) >>> 0;
        },
      },
    });
  }

  /**
   * 17 operator adapters (`op_type` 0..=16) backed by 7 category adapters. See js/api.d.ts.
   * A refused `op_type` reads as a negative count or norm from the exports that return one.
   */
  class WasmScopedLoRA {
    #ptr = 0;
    /** A view of the staging output (see `outputView`), made at the first `forward_array`. */
    #output = null;

    constructor(dim, alpha, learning_rate) {
      this.#ptr = adopted(this, SCOPED, dim === WRAP ? alpha : newAdapter(SCOPED, dim, alpha, learning_rate));
    }

    #handle() {
      return live(this.#ptr);
    }

    /** `stagedOtherwise` for this object, out of the calls' common path (its closure is here). */
    #restaged(array, argument, checkFirst, first, second) {
      return stagedOtherwise(() => this.#handle(), array, argument, checkFirst, first, second);
    }

    // As WasmMicroLoRA's.
    static #methods = defineAdapterMethods(this, SCOPED, {
      handleOf: (object) => object.#handle(),
      takeHandle(object) {
        const handle = object.#ptr;
        object.#ptr = 0;
        object.#output = null;
        return handle;
      },
    }, {
      statics: {
        scope_name(op_type) {
          const op = +op_type;
          const at = instantiated().scope_name(op) >>> 0;
          if (at === 0) throw refused();
          views();
          const [, begin, length] = record(at);
          return text(begin, length);
        },
      },
      methods: {
        forward(op_type) {
          const op = +op_type;
          if (!raw.scoped_forward(this.#handle(), op)) throw refused();
        },

        forward_array(op_type, input) {
          const op = +op_type;
          let handle = this.#handle();
          if (!staged(handle, input)) handle = this.#restaged(input, 0, opTypeFirst, op);
          if (!raw.scoped_forward_staged(handle, op)) throw refused();
          return copied((this.#output = keptOutput(this.#output, handle)));
        },

        adapt(op_type) {
          const op = +op_type;
          if (!raw.scoped_adapt(this.#handle(), op)) throw refused();
        },

        adapt_array(op_type, gradient) {
          const op = +op_type;
          let handle = this.#handle();
          if (!staged(handle, gradient)) handle = this.#restaged(gradient, 1, opTypeFirst, op);
          if (!raw.scoped_adapt_staged(handle, op)) throw refused();
        },

        adapt_with_reward(op_type, improvement) {
          const op = +op_type, value = +improvement;
          if (!raw.scoped_adapt_with_reward(this.#handle(), op, value)) throw refused();
        },

        reset_scope(op_type) {
          const op = +op_type;
          if (!raw.scoped_reset_scope(this.#handle(), op)) throw refused();
        },

        reset_all() {
          raw.scoped_reset_all(this.#handle());
        },

        forward_count(op_type) {
          const op = +op_type;
          const count = raw.scoped_forward_count(this.#handle(), op);
          if (count < 0n) throw refused();
          return count;
        },

        adapt_count(op_type) {
          const op = +op_type;
          const count = raw.scoped_adapt_count(this.#handle(), op);
          if (count < 0n) throw refused();
          return count;
        },

        delta_norm(op_type) {
          const op = +op_type;
          const norm = raw.scoped_delta_norm(this.#handle(), op);
          if (norm < 0) throw refused();
          return norm;
        },

        total_forward_count() {
          return BigInt.asUintN(64, raw.scoped_total_forward_count(this.#handle()));
        },

        total_adapt_count() {
          return BigInt.asUintN(64, raw.scoped_total_adapt_count(this.#handle()));
        },

        set_category_fallback(enabled) {
          raw.scoped_set_category_fallback(this.#handle(), enabled);
        },
      },
    });
  }

  /**
   * The latest `capacity` executions, with statistics over every record since the last reset.
   * See js/api.d.ts. A refused argument reads as a negative count from the exports that return one.
   */
  class WasmTrajectoryBuffer {
    #ptr = 0;

    constructor(capacity, embedding_dim) {
      let handle;
      if (capacity === WRAP) {
        handle = embedding_dim;
      } else {
        const [capacityGiven, capacityValue] = optional(capacity);
        const [dimGiven, dimValue] = optional(embedding_dim);
        handle = instantiated().trajectory_new(capacityGiven, capacityValue, dimGiven, dimValue) >>> 0;
      }
      this.#ptr = adopted(this, TRAJECTORY, handle);
    }

    #handle() {
      return live(this.#ptr);
    }

    /** `stagedOtherwise` for this object, out of the calls' common path (its closure is here). */
    #restaged(array, argument, checkFirst, first, second) {
      return stagedOtherwise(() => this.#handle(), array, argument, checkFirst, first, second);
    }

    free() {
      const handle = this.#ptr;
      this.#ptr = 0;
      released(this, TRAJECTORY, handle);
    }

    static from_bytes(bytes) {
      return new WasmTrajectoryBuffer(WRAP, loaded(TRAJECTORY, bytes));
    }

    to_bytes() {
      return saved(TRAJECTORY, this.#handle());
    }

    record(embedding, op_type, attention_type, execution_ms, baseline_ms) {
      const op = +op_type, attention = +attention_type, execution = +execution_ms, baseline = +baseline_ms;
      let handle = this.#handle();
      if (!staged(handle, embedding)) handle = this.#restaged(embedding, 2, recordNumbersFirst, op, attention);
      if (!raw.trajectory_record(handle, op, attention, execution, baseline)) throw refused();
    }

    total_count() {
      return BigInt.asUintN(64, raw.trajectory_total_count(this.#handle()));
    }

    len() {
      return raw.trajectory_len(this.#handle()) >>> 0;
    }

    is_empty() {
      return this.len() === 0;
    }

    mean_improvement() {
      return raw.trajectory_mean_improvement(this.#handle());
    }

    best_improvement() {
      return raw.trajectory_best_improvement(this.#handle());
    }

    success_rate() {
      return raw.trajectory_success_rate(this.#handle());
    }

    best_attention() {
      return raw.trajectory_best_attention(this.#handle()) >>> 0;
    }

    variance() {
      return raw.trajectory_variance(this.#handle());
    }

    reset() {
      raw.trajectory_reset(this.#handle());
    }

    high_quality_count(threshold) {
      const value = +threshold;
      const count = raw.trajectory_high_quality_count(this.#handle(), value);
      if (count < 0) throw refused();
      return count;
    }

    count_by_operator(op_type) {
      const op = +op_type;
      const count = raw.trajectory_count_by_operator(this.#handle(), op);
      if (count < 0) throw refused();
      return count;
    }
  }

  for (const Class of [WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer]) {
    if (Symbol.dispose) Class.prototype[Symbol.dispose] = Class.prototype.free;
  }

  return { installApi, WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer };
})();
