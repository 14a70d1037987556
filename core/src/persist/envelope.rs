//! The envelope of saved learned state: a versioned, checksummed binary frame around a serde
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
//! and trajectory buffers are encoded by hand ([`super::codec`]) straight from the learner, and
//! decoded straight into it, without a snapshot in between: the bytes are postcard's all the same
//! (tests/state_codec.rs checks both directions against serde and postcard). Their snapshots are
//! restored by encoding them and loading those bytes, so that their checks are written once.
//! Each learner's own save and load code lives beside this file (`super::micro`, ...).
//!
//! Loading checks every field of the envelope, the checksum, and then the payload: first that it
//! decodes, as a whole, and then its contents (dimensions, lengths, finite values, consistent
//! counts), so a damaged or foreign file is refused rather than loaded, with the first reason in
//! that order.

use alloc::vec::Vec;

use crate::error::{LearningError, Result};

const MAGIC: [u8; 4] = *b"MLRA";
/// CRC-32 (IEEE, as zlib computes it), a byte at a time. The compiler computes a table for half
/// a byte (64 bytes of the .wasm's data); each call extends it to the byte-at-a-time table, two
/// look-ups an entry, rather than storing that table (1 KiB) or computing it bit by bit (more
/// code, unrolled): extending the table is a fixed cost per call, which checksumming a large
/// state dwarfs.
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
