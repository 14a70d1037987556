// The declarations of js/api.js's classes, which build.sh puts before wasm-bindgen's declarations of
// the loader (init, initSync) in the package's .d.ts and .d.cts.

/**
 * A single rank-2 LoRA adapter, `out = x + α·(x·A)·B`.
 *
 * `adapt*` move the output for the reference input (the input of the latest forward pass) along
 * the given direction; see `microlora_core::Adapter` for the update rule.
 */
export class WasmMicroLoRA {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * One adaptation step along the input buffer, read as the gradient.
     */
    adapt(): void;
    /**
     * One adaptation step along `gradient` (length `dim`, finite).
     */
    adapt_array(gradient: Float32Array): void;
    /**
     * Adaptations since the last reset.
     */
    adapt_count(): bigint;
    /**
     * Reinforces the reference input (`improvement > 0`) or pushes away from it (`< 0`).
     */
    adapt_with_reward(improvement: number): void;
    /**
     * `‖α·A·B‖_F`, the size of the learned change.
     */
    delta_norm(): number;
    /**
     * The embedding dimension.
     */
    dim(): number;
    /**
     * Forward pass from the input buffer into the output buffer; allocates nothing. The input
     * becomes the reference input of `adapt`.
     */
    forward(): void;
    /**
     * Forward pass of `input` (length `dim`, finite) into a new array.
     */
    forward_array(input: Float32Array): Float32Array;
    /**
     * Forward passes since the last reset.
     */
    forward_count(): bigint;
    /**
     * An adapter from bytes written by `to_bytes`; throws if they are not such a state.
     */
    static from_bytes(bytes: Uint8Array | number[]): WasmMicroLoRA;
    /**
     * Byte offset of the `dim`-float input buffer in `memory.buffer`.
     */
    get_input_ptr(): number;
    /**
     * Byte offset of the `dim`-float output buffer in `memory.buffer`.
     */
    get_output_ptr(): number;
    /**
     * A fresh adapter. `dim`: integer in 1..=256 (default 256); `alpha`: finite (default 0.1);
     * `learning_rate`: finite and >= 0 (default 0.01). Its output is its input until adapted.
     */
    constructor(dim?: number | null, alpha?: number | null, learning_rate?: number | null);
    /**
     * Learnable parameters, `4·dim`.
     */
    param_count(): number;
    /**
     * Back to the freshly constructed state.
     */
    reset(): void;
    /**
     * The adapter's state (parameters, counts, reference input) in core's versioned,
     * checksummed format, which the Postgres extension reads and writes too.
     */
    to_bytes(): Uint8Array;
    /**
     * The module's `WebAssembly.Memory`, for views on the zero-copy buffers. Re-create views
     * after any call that may grow the memory (constructors, `from_bytes`, `to_bytes`).
     */
    readonly memory: WebAssembly.Memory;
}

/**
 * 17 operator adapters (`op_type` 0..=16) backed by 7 category adapters; see
 * `microlora_core::ScopedLoRA` for the category fallback.
 */
export class WasmScopedLoRA {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * One adaptation step of the scope (and its category) along the input buffer as gradient.
     */
    adapt(op_type: number): void;
    /**
     * One adaptation step of the scope (and its category) along `gradient`.
     */
    adapt_array(op_type: number, gradient: Float32Array): void;
    /**
     * Adaptations of one scope since its last reset.
     */
    adapt_count(op_type: number): bigint;
    /**
     * Reinforces (`improvement > 0`) or pushes away from (`< 0`) the scope's reference input.
     */
    adapt_with_reward(op_type: number, improvement: number): void;
    /**
     * `‖α·A·B‖_F` of one scope's adapter.
     */
    delta_norm(op_type: number): number;
    /**
     * The embedding dimension.
     */
    dim(): number;
    /**
     * Forward pass of one scope from the input buffer into the output buffer; allocates nothing.
     */
    forward(op_type: number): void;
    /**
     * Forward pass of one scope for `input` (length `dim`, finite) into a new array.
     */
    forward_array(op_type: number, input: Float32Array): Float32Array;
    /**
     * Forward passes of one scope since its last reset.
     */
    forward_count(op_type: number): bigint;
    /**
     * Adapters from bytes written by `to_bytes`; throws if they are not such a state.
     */
    static from_bytes(bytes: Uint8Array | number[]): WasmScopedLoRA;
    /**
     * Byte offset of the `dim`-float input buffer in `memory.buffer`.
     */
    get_input_ptr(): number;
    /**
     * Byte offset of the `dim`-float output buffer in `memory.buffer`.
     */
    get_output_ptr(): number;
    /**
     * Fresh adapters. `dim`: integer in 1..=256 (default 256); `alpha`: finite (default 0.1);
     * `learning_rate`: finite and >= 0 (default 0.01).
     */
    constructor(dim?: number | null, alpha?: number | null, learning_rate?: number | null);
    /**
     * Resets every adapter and total count; the fallback setting stays.
     */
    reset_all(): void;
    /**
     * Resets one scope's adapter; its category keeps what it learned.
     */
    reset_scope(op_type: number): void;
    /**
     * The name of an operator scope, e.g. `"HnswScan"` for 2.
     */
    static scope_name(op_type: number): string;
    /**
     * Switches category fallback on (the default) or off.
     */
    set_category_fallback(enabled: boolean): void;
    /**
     * Every adapter's state in core's versioned, checksummed format.
     */
    to_bytes(): Uint8Array;
    /**
     * Adaptations over all scopes since the last `reset_all`.
     */
    total_adapt_count(): bigint;
    /**
     * Forward passes over all scopes since the last `reset_all`.
     */
    total_forward_count(): bigint;
    /**
     * The module's `WebAssembly.Memory`, for views on the zero-copy buffers. Re-create views
     * after any call that may grow the memory (constructors, `from_bytes`, `to_bytes`).
     */
    readonly memory: WebAssembly.Memory;
}

/**
 * The latest `capacity` executions, each an embedding with its operator, attention type and
 * time against a baseline; statistics cover every record since the last reset. The improvement
 * of a record is `baseline_ms / execution_ms − 1`.
 */
export class WasmTrajectoryBuffer {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Attention type of the best improvement (0 with no records).
     */
    best_attention(): number;
    /**
     * Best improvement since the last reset (0 with no records).
     */
    best_improvement(): number;
    /**
     * Buffered records of one operator scope (`op_type` an integer in 0..=16).
     */
    count_by_operator(op_type: number): number;
    /**
     * A buffer from bytes written by `to_bytes`; throws if they are not such a state.
     */
    static from_bytes(bytes: Uint8Array | number[]): WasmTrajectoryBuffer;
    /**
     * Buffered records whose quality `clamp((improvement + 1)/2, 0, 1)` is above `threshold`.
     */
    high_quality_count(threshold: number): number;
    /**
     * Whether nothing is buffered.
     */
    is_empty(): boolean;
    /**
     * Records currently buffered (at most `capacity`).
     */
    len(): number;
    /**
     * Mean improvement since the last reset (0 with no records).
     */
    mean_improvement(): number;
    /**
     * An empty buffer. `capacity`: integer >= 1 (default 1000); `embedding_dim`: integer in
     * 1..=256 (default 256). All storage is allocated here.
     */
    constructor(capacity?: number | null, embedding_dim?: number | null);
    /**
     * Records one execution: `embedding` of length `embedding_dim` and finite, `op_type` an
     * integer in 0..=16, `attention_type` an integer in 0..=4294967295, times finite and >= 0.
     */
    record(embedding: Float32Array, op_type: number, attention_type: number, execution_ms: number, baseline_ms: number): void;
    /**
     * Forgets every record and statistic.
     */
    reset(): void;
    /**
     * Share of records with improvement > 0 (0 with no records).
     */
    success_rate(): number;
    /**
     * The buffer (records, embeddings, statistics) in core's versioned, checksummed format.
     */
    to_bytes(): Uint8Array;
    /**
     * Records since the last reset (including those the ring has dropped).
     */
    total_count(): bigint;
    /**
     * Sample variance of the improvement (0 below two records).
     */
    variance(): number;
}
