//! `WasmTrajectoryBuffer`: a ring of timed executions with running statistics
//! ([`TrajectoryBuffer`]).

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use js_sys::Float32Array;
use microlora_core::{OperatorScope, Persistent, TrajectoryBuffer, DEFAULT_CAPACITY};
use wasm_bindgen::prelude::*;

use crate::boundary::{self, thrown};

/// The latest `capacity` executions, each an embedding with its operator, attention type and
/// time against a baseline; statistics cover every record since the last reset. The improvement
/// of a record is `baseline_ms / execution_ms − 1`.
#[wasm_bindgen]
pub struct WasmTrajectoryBuffer {
    buffer: TrajectoryBuffer,
    /// `embedding_dim` floats that `record` copies its embedding argument into. Not the ring slot
    /// the record will take: a refused record must leave the oldest buffered record intact.
    staged_embedding: Box<[f32]>,
}

impl WasmTrajectoryBuffer {
    fn wrap(buffer: TrajectoryBuffer) -> Self {
        let staged_embedding = vec![0.0; buffer.embedding_dim()].into_boxed_slice();
        WasmTrajectoryBuffer { buffer, staged_embedding }
    }
}

#[wasm_bindgen]
impl WasmTrajectoryBuffer {
    /// An empty buffer. `capacity`: integer >= 1 (default 1000); `embedding_dim`: integer in
    /// 1..=256 (default 256). All storage is allocated here.
    #[wasm_bindgen(constructor)]
    pub fn new(capacity: Option<f64>, embedding_dim: Option<f64>) -> Result<WasmTrajectoryBuffer, JsError> {
        let capacity = boundary::capacity(capacity, DEFAULT_CAPACITY).map_err(thrown)?;
        let embedding_dim = boundary::embedding_dim(embedding_dim).map_err(thrown)?;
        TrajectoryBuffer::new(capacity, embedding_dim).map(Self::wrap).map_err(thrown)
    }

    /// Records one execution: `embedding` of length `embedding_dim` and finite, `op_type` an
    /// integer in 0..=16, `attention_type` an integer in 0..=4294967295, times finite and >= 0.
    // js/fast_calls.js replaces this method with one that copies a `Float32Array` embedding of
    // length `embedding_dim` into the staged embedding itself and calls `record_staged`;
    // everything else (plain `Array`s, wrong lengths, other values, and refused records) comes
    // here.
    pub fn record(
        &mut self,
        embedding: &Float32Array,
        op_type: f64,
        attention_type: f64,
        execution_ms: f64,
        baseline_ms: f64,
    ) -> Result<(), JsError> {
        // The numbers are refused before the embedding is read (and checked again when recording).
        OperatorScope::from_number(op_type).map_err(thrown)?;
        boundary::attention_type(attention_type).map_err(thrown)?;
        boundary::copy_in("embedding", embedding, &mut self.staged_embedding)?;
        self.record_staging(op_type, attention_type, execution_ms, baseline_ms).map_err(thrown)
    }

    /// The byte offset of the staged embedding if `length` is the embedding dimension, else 0:
    /// where js/fast_calls.js copies a `Float32Array` embedding of that length before calling
    /// `record_staged`.
    #[wasm_bindgen(js_name = "_stage", skip_typescript)]
    pub fn stage(&self, length: f64) -> *const f32 {
        boundary::staged_for(&self.staged_embedding, length)
    }

    /// Records one execution of the staged embedding; false, changing nothing, if an argument was
    /// refused (js/fast_calls.js then calls `record`, which says why).
    #[wasm_bindgen(js_name = "_record_staged", skip_typescript)]
    pub fn record_staged(
        &mut self,
        op_type: f64,
        attention_type: f64,
        execution_ms: f64,
        baseline_ms: f64,
    ) -> bool {
        self.record_staging(op_type, attention_type, execution_ms, baseline_ms).is_ok()
    }

    fn record_staging(
        &mut self,
        op_type: f64,
        attention_type: f64,
        execution_ms: f64,
        baseline_ms: f64,
    ) -> microlora_core::Result<()> {
        let scope = OperatorScope::from_number(op_type)?;
        let attention_type = boundary::attention_type(attention_type)?;
        self.buffer.record(&self.staged_embedding, scope, attention_type, execution_ms, baseline_ms)
    }

    /// Records since the last reset (including those the ring has dropped).
    pub fn total_count(&self) -> u64 {
        self.buffer.stats().count()
    }

    /// Records currently buffered (at most `capacity`).
    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// Mean improvement since the last reset (0 with no records).
    pub fn mean_improvement(&self) -> f64 {
        self.buffer.stats().mean_improvement()
    }

    /// Best improvement since the last reset (0 with no records).
    pub fn best_improvement(&self) -> f64 {
        self.buffer.stats().best_improvement()
    }

    /// Share of records with improvement > 0 (0 with no records).
    pub fn success_rate(&self) -> f64 {
        self.buffer.stats().success_rate()
    }

    /// Attention type of the best improvement (0 with no records).
    pub fn best_attention(&self) -> u32 {
        self.buffer.stats().best_attention()
    }

    /// Sample variance of the improvement (0 below two records).
    pub fn variance(&self) -> f64 {
        self.buffer.stats().variance()
    }

    /// Forgets every record and statistic.
    pub fn reset(&mut self) {
        self.buffer.reset();
    }

    /// Buffered records whose quality `clamp((improvement + 1)/2, 0, 1)` is above `threshold`.
    pub fn high_quality_count(&self, threshold: f64) -> Result<usize, JsError> {
        self.buffer.high_quality_count(threshold).map_err(thrown)
    }

    /// Buffered records of one operator scope (`op_type` an integer in 0..=16).
    pub fn count_by_operator(&self, op_type: f64) -> Result<usize, JsError> {
        OperatorScope::from_number(op_type).map(|scope| self.buffer.count_by_operator(scope)).map_err(thrown)
    }

    /// The buffer (records, embeddings, statistics) in core's versioned, checksummed format.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.buffer.to_bytes()
    }

    /// A buffer from bytes written by `to_bytes`; throws if they are not such a state.
    pub fn from_bytes(bytes: &[u8]) -> Result<WasmTrajectoryBuffer, JsError> {
        TrajectoryBuffer::from_bytes(bytes).map(Self::wrap).map_err(thrown)
    }
}
