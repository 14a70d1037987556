//! Saving and loading learned state: a versioned, checksummed binary envelope around a serde
//! snapshot, shared by every face (the Postgres extension's state file, `export_state`, and the
//! npm package's `to_bytes`/`from_bytes`), so state moves between them unchanged.
//!
//! ```text
//!   offset  size  field
//!   0       4     magic "MLRA"
//!   4       2     format version (little endian), currently 1
//!   6       1     kind: 1 MicroLoRA, 2 ScopedLoRA, 3 TrajectoryBuffer, 4 TimePredictor, 5 PlanLearner
//!   7       1     reserved, 0
//!   8       4     payload length n (little endian)
//!   12      n     payload: the kind's snapshot, in postcard's encoding
//!   12+n    4     CRC-32 (IEEE) of bytes 0..12+n (little endian)
//! ```
//!
//! Every snapshot type derives serde's traits, and its encoding by postcard defines the payload.
//! The PostgreSQL extension's learners are encoded and decoded that way. Adapters, scoped learners
//! and trajectory buffers are encoded by hand ([`crate::persist::codec`]) straight from the learner, and
//! decoded straight into it, without a snapshot in between: the bytes are postcard's all the same
//! (tests/state_codec.rs checks both directions against serde and postcard). Their snapshots are
//! restored by encoding them and loading those bytes, so that their checks are written once.
//!
//! Loading checks every field of the envelope, the checksum, and then the payload: first that it
//! decodes, as a whole, and then its contents (dimensions, lengths, finite values, consistent
//! counts), so a damaged or foreign file is refused rather than loaded, with the first reason in
//! that order.

use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::error::{LearningError, Result};
use crate::lora::adapter::{check_dim, Adapter, RANK};
use crate::lora::micro::{MicroLoRA, DEFAULT_ALPHA, DEFAULT_DIM, DEFAULT_LEARNING_RATE};
use crate::lora::scoped::ScopedLoRA;
use crate::lora::trajectory::{TrajectoryBuffer, TrajectoryStats};
use crate::persist::codec::{Reader, WritePayload};
use crate::persist::in_place::InPlace;
use crate::plan::calibration::CostCalibration;
use crate::plan::least_squares::{self, RecursiveLeastSquares, MAX_LEAST_SQUARES_DIM};
use crate::plan::memory::MemoryEntry;
use crate::plan::q_error::QErrorStats;
use crate::plan::time_predictor::{check_scalings, TimePredictor};
use crate::scope::{OperatorCategory, OperatorScope};
use crate::MAX_DIM;

const MAGIC: [u8; 4] = *b"MLRA";
/// CRC-32 (IEEE, as zlib computes it), a byte at a time. The compiler computes a table for half
/// a byte (64 bytes of the .wasm's data); each call extends it to the byte-at-a-time table, two
/// look-ups an entry, rather than storing that table (1 KiB) or computing it bit by bit (0.6 KB
/// of unrolled code): a microsecond per call, against about 2 ms to checksum a megabyte.
/// tests/saved_state.rs checks it against a bitwise CRC.
#[inline(never)]
fn crc32(bytes: &[u8]) -> u32 {
    const NIBBLES: [u32; 16] = {
        let mut table = [0u32; 16];
        let mut nibble = 0;
        while nibble < 16 {
            let mut c = nibble as u32;
            let mut bit = 0;
            while bit < 4 {
                c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
                bit += 1;
            }
            table[nibble] = c;
            nibble += 1;
        }
        table
    };
    let nibble_step = |c: u32| NIBBLES[(c & 0xf) as usize] ^ (c >> 4);
    let mut table = [0u32; 256];
    for (byte, entry) in (0u32..).zip(&mut table) {
        *entry = nibble_step(nibble_step(byte));
    }
    !bytes.iter().fold(!0, |c, &byte| table[((c ^ u32::from(byte)) & 0xff) as usize] ^ (c >> 8))
}

/// The state format version this build writes and reads.
pub const STATE_VERSION: u16 = 1;
const HEADER_LEN: usize = 12;
const CHECKSUM_LEN: usize = 4;

/// What a state holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum StateKind {
    MicroLoRA = 1,
    ScopedLoRA = 2,
    TrajectoryBuffer = 3,
    TimePredictor = 4,
    /// A [`crate::PlanLearner`]: a server's predictor, statistics and trajectories (the
    /// PostgreSQL extension's state file).
    PlanLearner = 5,
}

impl StateKind {
    fn from_byte(byte: u8) -> Option<Self> {
        [Self::MicroLoRA, Self::ScopedLoRA, Self::TrajectoryBuffer, Self::TimePredictor, Self::PlanLearner]
            .into_iter()
            .find(|k| *k as u8 == byte)
    }

    fn name(self) -> &'static str {
        match self {
            Self::MicroLoRA => "MicroLoRA",
            Self::ScopedLoRA => "ScopedLoRA",
            Self::TrajectoryBuffer => "TrajectoryBuffer",
            Self::TimePredictor => "TimePredictor",
            Self::PlanLearner => "PlanLearner",
        }
    }
}

/// Learner state that can be saved to bytes and loaded back exactly.
pub trait Persistent: Sized {
    /// The kind byte of the envelope.
    const KIND: StateKind;
    /// The serde form of the state.
    type Snapshot: Payload;

    /// The state as its serde form.
    fn snapshot(&self) -> Self::Snapshot;

    /// The state from its serde form, after checking that it is consistent.
    fn restore(snapshot: Self::Snapshot) -> Result<Self>;

    /// The state in the versioned, checksummed envelope.
    fn to_bytes(&self) -> Vec<u8> {
        seal(Self::KIND, |out| self.snapshot().encode(out))
    }

    /// The state from bytes written by [`to_bytes`](Self::to_bytes), or an error saying why the
    /// bytes are not such a state.
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::restore(snapshot_from_bytes::<Self>(bytes)?)
    }
}

/// The snapshot that `bytes` hold, after checking the envelope.
pub(crate) fn snapshot_from_bytes<T: Persistent>(bytes: &[u8]) -> Result<T::Snapshot> {
    let payload = open(T::KIND, bytes)?;
    T::Snapshot::decode(&mut &payload[..]).ok_or(LearningError::CorruptState("the payload does not decode"))
}

/// A snapshot in postcard's encoding: what the envelope's payload holds.
pub trait Payload: Sized {
    /// Appends the snapshot's encoding.
    fn encode(&self, out: &mut Vec<u8>);
    /// The snapshot at the front of the bytes, or `None` when they do not decode. Bytes after it
    /// are left unread (postcard ignores them too).
    fn decode(bytes: &mut &[u8]) -> Option<Self>;
}

/// The payload of a snapshot that serde encodes (the PostgreSQL extension's learners).
macro_rules! serde_payload {
    ($snapshot:ty) => {
        impl $crate::persist::envelope::Payload for $snapshot {
            fn encode(&self, out: &mut Vec<u8>) {
                // Encoding plain structs of numbers and vectors into a growable buffer cannot fail.
                *out = postcard::to_extend(self, core::mem::take(out)).expect("snapshots always encode");
            }

            fn decode(bytes: &mut &[u8]) -> Option<Self> {
                let (snapshot, rest) = postcard::take_from_bytes(bytes).ok()?;
                *bytes = rest;
                Some(snapshot)
            }
        }
    };
}
pub(crate) use serde_payload;

serde_payload!(TimePredictorSnapshot);

/// The envelope around the payload that `write` appends, straight behind the header: a large
/// state is never copied from a buffer of its own into the envelope.
pub(crate) fn seal(kind: StateKind, write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut bytes = header(kind);
    write(&mut bytes);
    close(bytes)
}

/// The envelope's header, its payload length still zero: [`close`] fills the length in and
/// appends the checksum.
fn header(kind: StateKind) -> Vec<u8> {
    let mut header = [0; HEADER_LEN];
    header[..4].copy_from_slice(&MAGIC);
    header[4..6].copy_from_slice(&STATE_VERSION.to_le_bytes());
    header[6] = kind as u8;
    header.to_vec()
}

fn close(mut bytes: Vec<u8>) -> Vec<u8> {
    let payload_len = (bytes.len() - HEADER_LEN) as u32;
    bytes[8..HEADER_LEN].copy_from_slice(&payload_len.to_le_bytes());
    let checksum = crc32(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    bytes
}

pub(crate) fn open(expected: StateKind, bytes: &[u8]) -> Result<&[u8]> {
    use LearningError::CorruptState;
    // Split by the lengths the bytes have: no slice that could be out of range (a panic's code in
    // the npm package), nor a length summed from the header's, which could wrap on 32 bits.
    let parts = bytes
        .split_last_chunk::<CHECKSUM_LEN>()
        .and_then(|(body, checksum)| Some((body, body.split_first_chunk::<HEADER_LEN>()?, checksum)));
    let Some((body, (header, payload), checksum)) = parts else {
        return Err(CorruptState("it is shorter than the header"));
    };
    if header[..4] != MAGIC {
        return Err(CorruptState("the magic number is wrong"));
    }
    let version = u16::from_le_bytes([header[4], header[5]]);
    if version != STATE_VERSION {
        return Err(LearningError::UnsupportedStateVersion { found: version, supported: STATE_VERSION });
    }
    if payload.len() as u64 != u64::from(u32::from_le_bytes([header[8], header[9], header[10], header[11]])) {
        return Err(CorruptState("its length does not match the header (truncated or extended)"));
    }
    if crc32(body).to_le_bytes() != *checksum {
        return Err(CorruptState("the checksum does not match (the bytes were damaged)"));
    }
    match StateKind::from_byte(header[6]) {
        Some(kind) if kind == expected => Ok(payload),
        Some(kind) => Err(LearningError::WrongStateKind { expected: expected.name(), found: kind.name() }),
        None => Err(CorruptState("the kind byte is unknown")),
    }
}

/// Why a payload is refused: the reason of a [`LearningError::CorruptState`]. The loaders below
/// return it, two words, rather than a whole `LearningError`, which every `?` would move (bytes
/// of the npm package at each one); their callers make it the error.
type Refusal = &'static str;

/// What the loaders return.
type Checked<T> = core::result::Result<T, Refusal>;

/// Why a payload that does not decode is refused.
const UNDECODABLE: Refusal = "the payload does not decode";

/// Fills `target` with the saved vector `values` (its floats' bytes), after checking that it
/// holds `dim` floats, all finite. Kept out of line, as loading is cold: the npm package would
/// carry a copy of it in every loader.
#[inline(never)]
fn load_vector(target: &mut [f32; MAX_DIM], values: &[u8], dim: usize) -> Checked<()> {
    if values.len() != 4 * dim {
        return Err("a vector's length differs from the dimension");
    }
    let floats =
        values.chunks_exact(4).map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]));
    // A check that stops at the first NaN is not vectorised, and the copy is a plain one: this
    // is half the code of one loop that does both.
    if !floats.clone().all(f32::is_finite) {
        return Err("a vector holds NaN or infinite values");
    }
    target.iter_mut().zip(floats).for_each(|(value, saved)| *value = saved);
    Ok(())
}

/// The serde form of an [`Adapter`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct AdapterSnapshot {
    dim: u16,
    alpha: f32,
    learning_rate: f32,
    seed: u64,
    a: [Vec<f32>; 2],
    b: [Vec<f32>; 2],
    forward_count: u64,
    adapt_count: u64,
}

impl AdapterSnapshot {
    fn of(adapter: &Adapter) -> Self {
        let d = adapter.dim;
        AdapterSnapshot {
            dim: d as u16,
            alpha: adapter.alpha,
            learning_rate: adapter.learning_rate,
            seed: adapter.seed,
            a: adapter.a.each_ref().map(|column| column[..d].to_vec()),
            b: adapter.b.each_ref().map(|row| row[..d].to_vec()),
            forward_count: adapter.forward_count,
            adapt_count: adapter.adapt_count,
        }
    }
}

/// Appends `adapter` as its [`AdapterSnapshot`] encodes.
#[inline(never)]
fn write_adapter(out: &mut Vec<u8>, adapter: &Adapter) {
    let dim = adapter.dim;
    out.varint(dim as u64);
    out.f32(adapter.alpha);
    out.f32(adapter.learning_rate);
    out.varint(adapter.seed);
    adapter.a.iter().chain(&adapter.b).for_each(|values| out.floats(&values[..dim]));
    out.varint(adapter.forward_count);
    out.varint(adapter.adapt_count);
}

/// An [`AdapterSnapshot`] as a payload holds it, its vectors still bytes.
struct SavedAdapter<'a> {
    dim: u16,
    alpha: f32,
    learning_rate: f32,
    seed: u64,
    /// The columns of `A`, then the rows of `B`.
    factors: [&'a [u8]; 2 * RANK],
    forward_count: u64,
    adapt_count: u64,
}

impl<'a> SavedAdapter<'a> {
    #[inline(never)]
    fn read(reader: &mut Reader<'a>) -> Self {
        SavedAdapter {
            dim: reader.u16(),
            alpha: reader.f32(),
            learning_rate: reader.f32(),
            seed: reader.u64(),
            factors: [reader.floats(), reader.floats(), reader.floats(), reader.floats()],
            forward_count: reader.u64(),
            adapt_count: reader.u64(),
        }
    }

    /// Overwrites `target` with this adapter, after checking it, in place.
    #[inline(never)]
    fn restore_into(&self, target: &mut Adapter) -> Checked<()> {
        let dim = usize::from(self.dim);
        target
            .start(dim, self.alpha, self.learning_rate, self.seed)
            .map_err(|_| "an adapter's dim, alpha or learning rate is invalid")?;
        for (row, values) in target.a.iter_mut().chain(target.b.iter_mut()).zip(self.factors) {
            load_vector(row, values, dim)?;
        }
        target.forward_count = self.forward_count;
        target.adapt_count = self.adapt_count;
        Ok(())
    }
}

/// The serde form of a [`MicroLoRA`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct MicroLoRASnapshot {
    adapter: AdapterSnapshot,
    reference: Vec<f32>,
}

serde_payload!(MicroLoRASnapshot);

impl Persistent for MicroLoRA {
    const KIND: StateKind = StateKind::MicroLoRA;
    type Snapshot = MicroLoRASnapshot;

    fn snapshot(&self) -> MicroLoRASnapshot {
        MicroLoRASnapshot {
            adapter: AdapterSnapshot::of(&self.adapter),
            reference: self.reference_input().to_vec(),
        }
    }

    fn restore(snapshot: MicroLoRASnapshot) -> Result<Self> {
        // `new` rather than `default`: the latter's `expect` would link Rust's float formatting
        // into the WebAssembly package (35 KB) for an error that cannot happen.
        let mut lora = MicroLoRA::new(DEFAULT_DIM, DEFAULT_ALPHA, DEFAULT_LEARNING_RATE)?;
        lora.restore_into(&snapshot)?;
        Ok(lora)
    }

    fn to_bytes(&self) -> Vec<u8> {
        seal(Self::KIND, |out| {
            write_adapter(out, &self.adapter);
            out.floats(self.reference_input());
        })
    }

    /// Loaded on the heap, as [`InPlace::from_bytes_boxed`] loads it, and moved out.
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_boxed(bytes).map(|lora| *lora)
    }
}

/// Overwrites `target` with the adapter that `payload` holds: decoded whole, then checked.
pub(crate) fn load_micro(target: &mut MicroLoRA, payload: &[u8]) -> Result<()> {
    micro_from(target, payload).map_err(LearningError::CorruptState)
}

fn micro_from(target: &mut MicroLoRA, payload: &[u8]) -> Checked<()> {
    let mut reader = Reader::new(payload);
    let adapter = SavedAdapter::read(&mut reader);
    let reference = reader.floats();
    if !reader.decoded() {
        return Err(UNDECODABLE);
    }
    adapter.restore_into(&mut target.adapter)?;
    load_vector(&mut target.reference, reference, target.adapter.dim)
}

/// The serde form of a [`ScopedLoRA`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct ScopedLoRASnapshot {
    operators: Vec<AdapterSnapshot>,
    references: Vec<Vec<f32>>,
    categories: Vec<AdapterSnapshot>,
    category_fallback: bool,
    total_forward_count: u64,
    total_adapt_count: u64,
}

serde_payload!(ScopedLoRASnapshot);

impl Persistent for ScopedLoRA {
    const KIND: StateKind = StateKind::ScopedLoRA;
    type Snapshot = ScopedLoRASnapshot;

    fn snapshot(&self) -> ScopedLoRASnapshot {
        let dim = self.dim();
        ScopedLoRASnapshot {
            operators: self.operators.iter().map(AdapterSnapshot::of).collect(),
            references: self.references.iter().map(|r| r[..dim].to_vec()).collect(),
            categories: self.categories.iter().map(AdapterSnapshot::of).collect(),
            category_fallback: self.category_fallback,
            total_forward_count: self.total_forward_count,
            total_adapt_count: self.total_adapt_count,
        }
    }

    fn restore(snapshot: ScopedLoRASnapshot) -> Result<Self> {
        let mut scoped = ScopedLoRA::new(DEFAULT_DIM, DEFAULT_ALPHA, DEFAULT_LEARNING_RATE)?;
        scoped.restore_into(&snapshot)?;
        Ok(scoped)
    }

    fn to_bytes(&self) -> Vec<u8> {
        seal(Self::KIND, |out| {
            out.varint(OperatorScope::COUNT as u64);
            self.operators.iter().for_each(|adapter| write_adapter(out, adapter));
            out.varint(OperatorScope::COUNT as u64);
            self.references.iter().for_each(|values| out.floats(&values[..self.dim()]));
            out.varint(OperatorCategory::COUNT as u64);
            self.categories.iter().for_each(|adapter| write_adapter(out, adapter));
            out.byte(self.category_fallback.into());
            out.varint(self.total_forward_count);
            out.varint(self.total_adapt_count);
        })
    }

    /// Loaded on the heap, as [`InPlace::from_bytes_boxed`] loads it, and moved out.
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_boxed(bytes).map(|scoped| *scoped)
    }
}

/// A sequence whose elements `skip` reads past: the bytes from its first element on, and how many
/// elements it holds.
#[inline(never)]
fn skim<'a>(reader: &mut Reader<'a>, skip: fn(&mut Reader<'a>)) -> (&'a [u8], usize) {
    let len = reader.length();
    let elements = reader.rest();
    for _ in 0..len {
        skip(reader);
    }
    (elements, len)
}

/// Overwrites `target` with the scoped learner that `payload` holds, in place: decoded whole
/// first (each sequence skimmed, counted and set aside), then checked while it is restored, the
/// sequences read a second time.
pub(crate) fn load_scoped(target: &mut ScopedLoRA, payload: &[u8]) -> Result<()> {
    scoped_from(target, payload).map_err(LearningError::CorruptState)
}

fn scoped_from(target: &mut ScopedLoRA, payload: &[u8]) -> Checked<()> {
    let mut reader = Reader::new(payload);
    let adapter = |reader: &mut Reader| {
        SavedAdapter::read(reader);
    };
    let (operators, operator_count) = skim(&mut reader, adapter);
    let (references, reference_count) = skim(&mut reader, |reader| {
        reader.floats();
    });
    let (categories, category_count) = skim(&mut reader, adapter);
    let (fallback, forwards, adaptations) = (reader.bool(), reader.u64(), reader.u64());
    if !reader.decoded() {
        return Err(UNDECODABLE);
    }
    if [operator_count, reference_count, category_count]
        != [OperatorScope::COUNT, OperatorScope::COUNT, OperatorCategory::COUNT]
    {
        return Err("it does not hold 17 scope and 7 category adapters");
    }
    let dim = usize::from(Reader::new(operators).u16());
    check_dim("dim", dim).map_err(|_| "the dimension is out of range")?;
    restore_adapters(&mut target.operators, operators, dim)?;
    restore_adapters(&mut target.categories, categories, dim)?;
    let mut references = Reader::new(references);
    for reference in &mut target.references {
        load_vector(reference, references.floats(), dim)?;
    }
    target.category_fallback = fallback;
    target.total_forward_count = forwards;
    target.total_adapt_count = adaptations;
    Ok(())
}

/// Overwrites `targets` with the adapters that `bytes` begin with, each checked, and checked to
/// have dimension `dim`.
#[inline(never)]
fn restore_adapters(targets: &mut [Adapter], adapters: &[u8], dim: usize) -> Checked<()> {
    let mut adapters = Reader::new(adapters);
    for target in targets {
        SavedAdapter::read(&mut adapters).restore_into(target)?;
        if target.dim != dim {
            return Err("its adapters differ in dimension");
        }
    }
    Ok(())
}

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

/// The serde form of a [`TimePredictor`]: its adapters, and per scope its cost calibration and
/// the q-error statistics of the baseline and of the learned prediction.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TimePredictorSnapshot {
    learner: ScopedLoRASnapshot,
    calibrations: Vec<CostCalibration>,
    baseline_q: Vec<QErrorStats>,
    learned_q: Vec<QErrorStats>,
    /// The least-squares states of the 17 scope adapters, then of the 7 category adapters.
    fits: Vec<LeastSquaresSnapshot>,
    /// The plan memory's entries, each with its slot.
    memory: Vec<(u32, MemoryEntry)>,
}

/// The serde form of a [`RecursiveLeastSquares`]: its used `dim × dim` block, row-major.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct LeastSquaresSnapshot {
    p: Vec<f64>,
    count: u64,
}

impl LeastSquaresSnapshot {
    fn of(fit: &RecursiveLeastSquares) -> Self {
        let d = fit.dim;
        let p = (0..d).flat_map(|i| fit.p[i * MAX_LEAST_SQUARES_DIM..i * MAX_LEAST_SQUARES_DIM + d].to_vec());
        LeastSquaresSnapshot { p: p.collect(), count: fit.count }
    }

    fn restore_into(&self, target: &mut RecursiveLeastSquares) -> Result<()> {
        let d = target.dim;
        if self.p.len() != d * d {
            return Err(LearningError::CorruptState("a least-squares state has the wrong size"));
        }
        for (i, row) in self.p.chunks(d).enumerate() {
            target.p[i * MAX_LEAST_SQUARES_DIM..i * MAX_LEAST_SQUARES_DIM + d].copy_from_slice(row);
        }
        target.count = self.count;
        if !target.is_consistent() {
            return Err(LearningError::CorruptState("a least-squares state is not finite and positive"));
        }
        Ok(())
    }
}

impl Persistent for TimePredictor {
    const KIND: StateKind = StateKind::TimePredictor;
    type Snapshot = TimePredictorSnapshot;

    fn snapshot(&self) -> TimePredictorSnapshot {
        TimePredictorSnapshot {
            learner: self.learner.snapshot(),
            calibrations: self.calibrations.to_vec(),
            baseline_q: self.baseline_q.to_vec(),
            learned_q: self.learned_q.to_vec(),
            fits: self.scope_fits.iter().chain(&self.category_fits).map(LeastSquaresSnapshot::of).collect(),
            memory: self.memory.occupied().map(|(slot, entry)| (slot as u32, *entry)).collect(),
        }
    }

    /// Checked and built in place on the heap ([`TimePredictor::restore_boxed`]), and moved out.
    fn restore(snapshot: TimePredictorSnapshot) -> Result<Self> {
        TimePredictor::restore_boxed(&snapshot).map(|predictor| *predictor)
    }
}

/// Overwrites `target` with the predictor that `snapshot` holds, in place, after checking each
/// part; on error `target` may be partly overwritten (its callers start from a fresh one).
pub(crate) fn restore_predictor(target: &mut TimePredictor, snapshot: &TimePredictorSnapshot) -> Result<()> {
    use LearningError::CorruptState;
    target.learner.restore_into(&snapshot.learner)?;
    let dim = target.learner.dim();
    least_squares::check_dim(dim)
        .map_err(|_| CorruptState("its dimension is too large for a time predictor"))?;
    check_scalings(&target.learner)
        .map_err(|_| CorruptState("an adapter's alpha or factors are out of a time predictor's range"))?;
    if snapshot.fits.len() != OperatorScope::COUNT + OperatorCategory::COUNT {
        return Err(CorruptState("it does not hold 24 least-squares states"));
    }
    let fits = target.scope_fits.iter_mut().chain(&mut target.category_fits);
    for (fit, saved) in fits.zip(&snapshot.fits) {
        fit.start(dim);
        saved.restore_into(fit)?;
    }
    target.memory.restore(&snapshot.memory)?;
    if snapshot.calibrations.len() != OperatorScope::COUNT {
        return Err(CorruptState("it does not hold 17 calibrations"));
    }
    if snapshot.baseline_q.len() != OperatorScope::COUNT {
        return Err(CorruptState("it does not hold 17 baseline statistics"));
    }
    if snapshot.learned_q.len() != OperatorScope::COUNT {
        return Err(CorruptState("it does not hold 17 learned statistics"));
    }
    if !snapshot.calibrations.iter().all(CostCalibration::is_consistent) {
        return Err(CorruptState("a calibration holds NaN or infinite values"));
    }
    if !snapshot.baseline_q.iter().chain(&snapshot.learned_q).all(QErrorStats::is_consistent) {
        return Err(CorruptState("its q-error statistics are inconsistent"));
    }
    target.calibrations.copy_from_slice(&snapshot.calibrations);
    target.baseline_q.copy_from_slice(&snapshot.baseline_q);
    target.learned_q.copy_from_slice(&snapshot.learned_q);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::crc32;

    #[test]
    fn the_checksum_is_zlibs_crc_32() {
        // The check value of CRC-32/ISO-HDLC in the catalogue of parametrised CRC algorithms.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }
}
