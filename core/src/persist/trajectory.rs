//! A [`TrajectoryBuffer`] saved and loaded (kind `TrajectoryBuffer`).

use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::codec::{load_vector, skim, Checked, Reader, WritePayload, UNDECODABLE};
use super::envelope::{open, seal, serde_payload, Payload, Persistent, StateKind};
use crate::error::{LearningError, Result};
use crate::limits::MAX_DIM;
use crate::lora::trajectory::{TrajectoryBuffer, TrajectoryStats};
use crate::scope::OperatorScope;

/// The serde form of one buffered trajectory.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct TrajectorySnapshot {
    scope: u8,
    attention_type: u32,
    execution_ms: f64,
    baseline_ms: f64,
    embedding: Vec<f32>,
}

/// A [`TrajectorySnapshot`] as a payload holds it, its embedding still bytes.
struct SavedRecord<'a> {
    scope: u8,
    attention_type: u32,
    execution_ms: f64,
    baseline_ms: f64,
    embedding: &'a [u8],
}

impl<'a> SavedRecord<'a> {
    fn read(reader: &mut Reader<'a>) -> Self {
        SavedRecord {
            scope: reader.byte(),
            attention_type: reader.u32(),
            execution_ms: reader.f64(),
            baseline_ms: reader.f64(),
            embedding: reader.floats(),
        }
    }
}

/// The serde form of a [`TrajectoryBuffer`]: its records oldest first, and its statistics.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TrajectoryBufferSnapshot {
    capacity: u64,
    dim: u16,
    records: Vec<TrajectorySnapshot>,
    stats: TrajectoryStats,
}

serde_payload!(TrajectoryBufferSnapshot);

impl Persistent for TrajectoryBuffer {
    const KIND: StateKind = StateKind::TrajectoryBuffer;
    type Snapshot = TrajectoryBufferSnapshot;

    fn snapshot(&self) -> TrajectoryBufferSnapshot {
        let stats = self.stats;
        TrajectoryBufferSnapshot {
            capacity: self.capacity as u64,
            dim: self.dim as u16,
            records: self
                .iter()
                .map(|(r, embedding)| TrajectorySnapshot {
                    scope: r.scope.id() as u8,
                    attention_type: r.attention_type,
                    execution_ms: r.execution_ms,
                    baseline_ms: r.baseline_ms,
                    embedding: embedding.to_vec(),
                })
                .collect(),
            stats,
        }
    }

    /// Checked as loading checks bytes, by one piece of code: the snapshot is encoded and loaded.
    fn restore(snapshot: TrajectoryBufferSnapshot) -> Result<Self> {
        let mut payload = Vec::new();
        snapshot.encode(&mut payload);
        load_trajectory(&payload).map_err(LearningError::CorruptState)
    }

    fn to_bytes(&self) -> Vec<u8> {
        seal(Self::KIND, |out| {
            out.varint(self.capacity as u64);
            out.varint(self.dim as u64);
            out.varint(self.len() as u64);
            for (record, embedding) in self.iter() {
                out.byte(record.scope.id() as u8);
                out.varint(record.attention_type.into());
                out.f64(record.execution_ms);
                out.f64(record.baseline_ms);
                out.floats(embedding);
            }
            let stats = &self.stats;
            out.varint(stats.count);
            out.f64(stats.mean);
            out.f64(stats.m2);
            out.varint(stats.successes);
            out.byte(stats.best().is_some().into());
            if let Some((improvement, attention_type)) = stats.best() {
                out.f64(improvement);
                out.varint(attention_type.into());
            }
        })
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        load_trajectory(open(Self::KIND, bytes)?).map_err(LearningError::CorruptState)
    }
}

/// The buffer that `payload` holds: decoded whole (the records skipped over), then checked while
/// it is built, the records read a second time. Nothing is allocated for bytes that do not decode.
fn load_trajectory(payload: &[u8]) -> Checked<TrajectoryBuffer> {
    let mut reader = Reader::new(payload);
    let (capacity, dim) = (reader.u64(), reader.u16());
    let (records, len) = skim(&mut reader, |reader| {
        SavedRecord::read(reader);
    });
    let mut stats = TrajectoryStats::default();
    (stats.count, stats.mean, stats.m2, stats.successes) =
        (reader.u64(), reader.f64(), reader.f64(), reader.u64());
    stats.set_best(if reader.bool() { Some((reader.f64(), reader.u32())) } else { None });
    if !reader.decoded() {
        return Err(UNDECODABLE);
    }
    let capacity = usize::try_from(capacity).map_err(|_| "the capacity is too large")?;
    let mut buffer = TrajectoryBuffer::new(capacity, usize::from(dim))
        .map_err(|_| "the capacity or dimension is invalid")?;
    if len > capacity || (len as u64) > stats.count {
        return Err("it holds more records than its capacity or count");
    }
    let (mut records, mut embedding) = (Reader::new(records), [0.0; MAX_DIM]);
    for _ in 0..len {
        let r = SavedRecord::read(&mut records);
        let scope = *OperatorScope::ALL.get(usize::from(r.scope)).ok_or("a scope id is unknown")?;
        let recorded = load_vector(&mut embedding, r.embedding, buffer.dim).is_ok()
            && (buffer.record(
                &embedding[..buffer.dim],
                scope,
                r.attention_type,
                r.execution_ms,
                r.baseline_ms,
            ))
            .is_ok();
        if !recorded {
            return Err("a record is invalid");
        }
    }
    if !stats.is_consistent() {
        return Err("its statistics are inconsistent");
    }
    buffer.stats = stats;
    Ok(buffer)
}
