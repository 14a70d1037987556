//! A ring buffer of operator executions, each timed against its baseline, with running
//! statistics of the improvement over the baseline.

use alloc::vec::Vec;

use crate::error::{expect_len, non_negative, LearningError, Result};
use crate::lora::adapter::check_dim;
use crate::lora::micro::DEFAULT_DIM;
use crate::numeric::kernels;
use crate::numeric::ring::RingIndex;
use crate::scope::OperatorScope;

/// Default ring capacity of the published API.
pub const DEFAULT_CAPACITY: usize = 1000;

/// The largest improvement statistics hold: a baseline a billion times the execution. Any
/// larger value (an absurd plan cost, say) counts as this much, so that every sum of squares
/// stays finite and what is saved always loads.
pub const IMPROVEMENT_LIMIT: f64 = 1e9;

/// `baseline_ms / execution_ms − 1`: how much faster than its baseline an execution ran
/// (0.5 means the baseline took 1.5× as long), at most [`IMPROVEMENT_LIMIT`]. Zero when the
/// execution took no time.
pub fn improvement(execution_ms: f64, baseline_ms: f64) -> f64 {
    if execution_ms == 0.0 {
        0.0
    } else {
        (baseline_ms / execution_ms - 1.0).min(IMPROVEMENT_LIMIT)
    }
}

/// The quality of an improvement on a `[0, 1]` scale: `clamp((improvement + 1)/2, 0, 1)`.
pub fn quality(improvement: f64) -> f64 {
    ((improvement + 1.0) / 2.0).clamp(0.0, 1.0)
}

/// One recorded execution, without its embedding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrajectoryRecord {
    pub scope: OperatorScope,
    pub attention_type: u32,
    pub execution_ms: f64,
    pub baseline_ms: f64,
    pub improvement: f64,
}

/// Statistics over every record since the last reset (not only the buffered ones).
///
/// The mean and variance follow Welford's update, which stays accurate where the naive
/// sum-of-squares formula cancels catastrophically: for the n-th improvement `v`,
///
/// ```text
///   δ = v − mean;  mean ← mean + δ/n;  M₂ ← M₂ + δ·(v − mean)
///   variance = M₂/(n − 1)   (sample variance; 0 below two records)
/// ```
///
/// Every field is valid as zero bytes (`derive(Zeroable)`), so that statistics can be built in
/// place in a zeroed block: the best improvement is kept as plain fields rather than an
/// `Option`, and saved in the `Option`'s form ([`SavedStats`]), so that saved bytes do not
/// change.
#[derive(
    Clone, Copy, Debug, PartialEq, Default, serde::Serialize, serde::Deserialize, bytemuck::Zeroable,
)]
#[serde(from = "SavedStats", into = "SavedStats")]
pub struct TrajectoryStats {
    pub(crate) count: u64,
    pub(crate) mean: f64,
    pub(crate) m2: f64,
    pub(crate) successes: u64,
    /// Whether there is a best improvement (`best` is `Some`); when not, the two fields below
    /// are 0, so that the derived equality is that of the `Option`.
    has_best: bool,
    /// The best improvement and the attention type that achieved it (the first, on ties).
    best_value: f64,
    best_attention_type: u32,
}

/// The serde form of [`TrajectoryStats`]: the shape it had when the best improvement was an
/// `Option`, which postcard encodes as a flag byte and, if set, the pair.
#[derive(Clone, Copy, serde::Serialize, serde::Deserialize)]
#[serde(rename = "TrajectoryStats")]
struct SavedStats {
    count: u64,
    mean: f64,
    m2: f64,
    successes: u64,
    best: Option<(f64, u32)>,
}

impl From<SavedStats> for TrajectoryStats {
    fn from(saved: SavedStats) -> Self {
        let mut stats = TrajectoryStats {
            count: saved.count,
            mean: saved.mean,
            m2: saved.m2,
            successes: saved.successes,
            ..Self::default()
        };
        stats.set_best(saved.best);
        stats
    }
}

impl From<TrajectoryStats> for SavedStats {
    fn from(stats: TrajectoryStats) -> Self {
        SavedStats {
            count: stats.count,
            mean: stats.mean,
            m2: stats.m2,
            successes: stats.successes,
            best: stats.best(),
        }
    }
}

impl TrajectoryStats {
    /// The best improvement and the attention type that achieved it; `None` with no records.
    pub(crate) fn best(&self) -> Option<(f64, u32)> {
        self.has_best.then_some((self.best_value, self.best_attention_type))
    }

    /// Sets what [`best`](Self::best) returns.
    pub(crate) fn set_best(&mut self, best: Option<(f64, u32)>) {
        self.has_best = best.is_some();
        (self.best_value, self.best_attention_type) = best.unwrap_or((0.0, 0));
    }

    /// Improvements beyond ±[`IMPROVEMENT_LIMIT`] count as the limit, so that the sums stay
    /// finite.
    pub fn add(&mut self, improvement: f64, attention_type: u32) {
        let improvement = improvement.clamp(-IMPROVEMENT_LIMIT, IMPROVEMENT_LIMIT);
        self.count += 1;
        let delta = improvement - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (improvement - self.mean);
        if improvement > 0.0 {
            self.successes += 1;
        }
        if self.best().is_none_or(|(best, _)| improvement > best) {
            self.set_best(Some((improvement, attention_type)));
        }
    }

    /// Whether loaded statistics are ones that [`add`](Self::add) could have built: finite,
    /// no more successes than records, and a best improvement exactly when there are records.
    pub fn is_consistent(&self) -> bool {
        self.successes <= self.count
            && self.mean.is_finite()
            && self.m2.is_finite()
            && self.m2 >= 0.0
            && (self.count == 0) == self.best().is_none()
            && self.best().is_none_or(|(value, _)| value.is_finite())
    }

    /// Records since the last reset.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Mean improvement (0 with no records).
    pub fn mean_improvement(&self) -> f64 {
        self.mean
    }

    /// Sample variance of the improvement (0 below two records).
    pub fn variance(&self) -> f64 {
        if self.count < 2 {
            0.0
        } else {
            self.m2 / (self.count - 1) as f64
        }
    }

    /// Share of records with improvement > 0 (0 with no records).
    pub fn success_rate(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.successes as f64 / self.count as f64
        }
    }

    /// The best improvement (0 with no records).
    pub fn best_improvement(&self) -> f64 {
        self.best().map_or(0.0, |(value, _)| value)
    }

    /// The attention type of the best improvement (0 with no records).
    pub fn best_attention(&self) -> u32 {
        self.best().map_or(0, |(_, attention)| attention)
    }
}

/// A ring of the latest `capacity` executions and their embeddings.
///
/// All storage is allocated at construction: recording allocates nothing. Once full, each
/// record replaces the oldest. Two buffers are equal when they hold the same records in the
/// same order with the same statistics, wherever in the ring the records sit.
#[derive(Clone, Debug)]
pub struct TrajectoryBuffer {
    pub(crate) capacity: usize,
    pub(crate) dim: usize,
    /// `(capacity + 1) × dim` floats in blocks of `dim`: block `blocks[i]` holds the embedding of
    /// `records[i]`, and block `spare` none. A new embedding is written into the spare block
    /// (by [`record`](Self::record), or by the caller through
    /// [`staged_embedding_mut`](Self::staged_embedding_mut)), checked there, and then takes the
    /// slot's place: the block it replaces becomes the spare. So a refused record changes nothing
    /// a reader sees, and a record copies its embedding once (the JavaScript package writes it
    /// straight into the spare block).
    pub(crate) embeddings: Vec<f32>,
    /// The embedding block of each ring slot, `capacity` of them.
    pub(crate) blocks: Vec<u32>,
    /// The block that holds no record's embedding.
    pub(crate) spare: usize,
    /// In slot order; grows to `capacity` and then wraps.
    pub(crate) records: Vec<TrajectoryRecord>,
    /// Which slots hold records, oldest first, and where the next goes.
    pub(crate) index: RingIndex,
    pub(crate) stats: TrajectoryStats,
}

impl TrajectoryBuffer {
    /// An empty buffer: `capacity >= 1`, `embedding_dim` in `1..=256`.
    pub fn new(capacity: usize, embedding_dim: usize) -> Result<Self> {
        if capacity == 0 {
            return Err(LearningError::InvalidCapacity(0.0));
        }
        check_dim("embedding_dim", embedding_dim)?;
        let too_large = || LearningError::CapacityTooLarge(capacity as f64);
        let block_count =
            u32::try_from(capacity).ok().and_then(|c| c.checked_add(1)).ok_or_else(too_large)?;
        let floats = (block_count as usize).checked_mul(embedding_dim).ok_or_else(too_large)?;
        let mut embeddings = Vec::new();
        embeddings.try_reserve_exact(floats).map_err(|_| too_large())?;
        embeddings.resize(floats, 0.0);
        let mut blocks = Vec::new();
        blocks.try_reserve_exact(capacity).map_err(|_| too_large())?;
        blocks.extend(0..block_count - 1);
        let mut records = Vec::new();
        records.try_reserve_exact(capacity).map_err(|_| too_large())?;
        Ok(TrajectoryBuffer {
            capacity,
            dim: embedding_dim,
            embeddings,
            blocks,
            spare: capacity,
            records,
            index: RingIndex::new(capacity),
            stats: TrajectoryStats::default(),
        })
    }

    /// Records one execution. The embedding must have length `embedding_dim` and be finite;
    /// times must be finite and `>= 0`. Allocates nothing.
    pub fn record(
        &mut self,
        embedding: &[f32],
        scope: OperatorScope,
        attention_type: u32,
        execution_ms: f64,
        baseline_ms: f64,
    ) -> Result<()> {
        expect_len("embedding", embedding.len(), self.dim)?;
        self.staged_embedding_mut().copy_from_slice(embedding);
        self.record_staged(scope, attention_type, execution_ms, baseline_ms)
    }

    /// Where a caller writes the embedding of the next [`record_staged`](Self::record_staged):
    /// `embedding_dim` floats that no buffered record uses, at an address that changes with each
    /// record (and only then).
    #[inline]
    pub fn staged_embedding_mut(&mut self) -> &mut [f32] {
        let at = self.spare * self.dim;
        &mut self.embeddings[at..at + self.dim]
    }

    /// Records one execution of the embedding written through
    /// [`staged_embedding_mut`](Self::staged_embedding_mut), as [`record`](Self::record) does.
    pub fn record_staged(
        &mut self,
        scope: OperatorScope,
        attention_type: u32,
        execution_ms: f64,
        baseline_ms: f64,
    ) -> Result<()> {
        if !kernels::all_finite(self.staged_embedding_mut()) {
            return Err(LearningError::NonFinite { what: "embedding" });
        }
        non_negative("execution_ms", execution_ms)?;
        non_negative("baseline_ms", baseline_ms)?;

        let improvement = improvement(execution_ms, baseline_ms);
        let record = TrajectoryRecord { scope, attention_type, execution_ms, baseline_ms, improvement };
        let slot = self.index.push();
        // The slot's old block (unused while the ring fills) becomes the spare.
        self.spare = core::mem::replace(&mut self.blocks[slot], self.spare as u32) as usize;
        if slot == self.records.len() {
            self.records.push(record); // within the capacity reserved at construction
        } else {
            self.records[slot] = record;
        }
        self.stats.add(improvement, attention_type);
        Ok(())
    }

    /// The embedding of the record in ring slot `slot`.
    fn embedding(&self, slot: usize) -> &[f32] {
        let at = self.blocks[slot] as usize * self.dim;
        &self.embeddings[at..at + self.dim]
    }

    /// Forgets every record and statistic.
    pub fn reset(&mut self) {
        self.records.clear();
        self.index.clear();
        self.stats = TrajectoryStats::default();
    }

    /// The buffered records, oldest first, each with its embedding.
    pub fn iter(&self) -> impl Iterator<Item = (&TrajectoryRecord, &[f32])> + '_ {
        self.index.oldest_first().map(move |slot| (&self.records[slot], self.embedding(slot)))
    }

    /// Records currently buffered (at most `capacity`).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The ring's capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The embedding dimension.
    pub fn embedding_dim(&self) -> usize {
        self.dim
    }

    /// Statistics over every record since the last reset.
    pub fn stats(&self) -> &TrajectoryStats {
        &self.stats
    }

    /// Buffered records whose [`quality`] is above `threshold` (which must not be NaN).
    pub fn high_quality_count(&self, threshold: f64) -> Result<usize> {
        if threshold.is_nan() {
            return Err(LearningError::InvalidParameter {
                what: "threshold",
                expected: "a number",
                value: threshold,
            });
        }
        Ok(self.records.iter().filter(|r| quality(r.improvement) > threshold).count())
    }

    /// Buffered records of one scope.
    pub fn count_by_operator(&self, scope: OperatorScope) -> usize {
        self.records.iter().filter(|r| r.scope == scope).count()
    }
}

impl PartialEq for TrajectoryBuffer {
    fn eq(&self, other: &Self) -> bool {
        self.capacity == other.capacity
            && self.dim == other.dim
            && self.stats == other.stats
            && self.iter().eq(other.iter())
    }
}

impl Default for TrajectoryBuffer {
    /// The published defaults: capacity 1000, embedding dimension 256.
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY, DEFAULT_DIM).expect("the published defaults are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_save_in_the_shape_of_an_optional_best_and_zero_bytes_are_empty_ones() {
        let mut stats: TrajectoryStats = bytemuck::Zeroable::zeroed();
        assert_eq!(stats, TrajectoryStats::default());
        assert!(stats.is_consistent());
        // count and successes as varints, mean and m2 as 8 bytes each, then the Option's flag
        // and, when set, the pair.
        let empty = postcard::to_allocvec(&stats).unwrap();
        assert_eq!(empty, [&[0u8][..], &[0; 16], &[0, 0]].concat());
        stats.add(1.5, 3);
        let bytes = postcard::to_allocvec(&stats).unwrap();
        let mut expected = alloc::vec![1u8];
        expected.extend(1.5f64.to_le_bytes());
        expected.extend(0f64.to_le_bytes());
        expected.extend([1, 1]);
        expected.extend(1.5f64.to_le_bytes());
        expected.push(3);
        assert_eq!(bytes, expected);
        assert_eq!(postcard::from_bytes::<TrajectoryStats>(&bytes).unwrap(), stats);
        assert_eq!(postcard::from_bytes::<TrajectoryStats>(&empty).unwrap(), TrajectoryStats::default());
        assert_eq!((stats.best_improvement(), stats.best_attention()), (1.5, 3));
        // A best without records, as damaged bytes could hold: loaded as it is, and inconsistent.
        let mut damaged = empty.clone();
        damaged.pop();
        damaged.push(1);
        damaged.extend(2.0f64.to_le_bytes());
        damaged.push(7);
        let loaded = postcard::from_bytes::<TrajectoryStats>(&damaged).unwrap();
        assert_eq!(loaded.best(), Some((2.0, 7)));
        assert!(!loaded.is_consistent());
        assert_eq!(postcard::to_allocvec(&loaded).unwrap(), damaged);
    }
}
