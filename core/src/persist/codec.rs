//! The part of postcard's encoding that saved adapters and trajectory buffers use, written by hand:
//! unsigned integers as varints (LEB128, at most as many bytes as their type needs), `f32`/`f64`
//! as little-endian bytes, `u8` and `bool` as one byte, `Option` as a 0/1 byte before the value,
//! sequences as a varint length before their elements, structs and tuples as their fields in
//! order. Written by hand because serde's generated code for their snapshots would be a large
//! part of the npm package.
//!
//! Decoding accepts exactly what postcard 1 accepts: the same varint limits (a last byte with
//! more bits than the type holds is refused, a longer-than-needed encoding is not), booleans and
//! option tags 0 or 1, and bytes left over after the value are ignored. The tests below
//! check both directions against postcard and serde.
//!
//! The hand-written loaders (of adapters, scoped learners and trajectory buffers) share the rest
//! of this file: a refusal's reason, a checked vector, a skimmed sequence.
//!
//! Every read and write here is kept out of line: saving and loading are cold, and each inlined
//! copy of a varint or a `Vec`'s growth costs the npm package bytes at every field.

use alloc::vec::Vec;

use crate::limits::MAX_DIM;

/// Appends values to a payload.
pub(crate) trait WritePayload {
    /// Any unsigned integer (postcard encodes `u16`, `u32`, `u64` and lengths alike).
    fn varint(&mut self, value: u64);
    fn byte(&mut self, value: u8);
    fn f32(&mut self, value: f32);
    fn f64(&mut self, value: f64);
    /// A `Vec<f32>`: its length, then its values.
    fn floats(&mut self, values: &[f32]);
}

impl WritePayload for Vec<u8> {
    #[inline(never)]
    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.byte(value as u8 | 0x80);
            value >>= 7;
        }
        self.byte(value as u8);
    }

    #[inline(never)]
    fn byte(&mut self, value: u8) {
        self.extend_from_slice(&[value]);
    }

    #[inline(never)]
    fn f32(&mut self, value: f32) {
        self.extend_from_slice(&value.to_le_bytes());
    }

    #[inline(never)]
    fn f64(&mut self, value: f64) {
        self.extend_from_slice(&value.to_le_bytes());
    }

    /// On a little-endian machine (WebAssembly's, and most), the floats' bytes are already their
    /// encoding, and are copied as they are.
    #[inline(never)]
    fn floats(&mut self, values: &[f32]) {
        self.varint(values.len() as u64);
        if cfg!(target_endian = "little") {
            self.extend_from_slice(bytemuck::cast_slice(values));
        } else {
            values.iter().for_each(|value| self.extend_from_slice(&value.to_le_bytes()));
        }
    }
}

/// Reads values from the front of a payload, moving past them. A read that finds no value (the
/// bytes end, or do not decode as postcard would decode them) gives zero (an empty vector) and
/// fails the reader, which then has nothing left, so that every read after it fails too: a
/// payload is read whole and then asked once whether it [`decoded`](Self::decoded). The reads
/// return their values plainly, without an `Option` to check and move at every field.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    failed: bool,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, failed: false }
    }

    /// Whether every read so far found its value.
    pub(crate) fn decoded(&self) -> bool {
        !self.failed
    }

    /// The bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes
    }

    #[inline(never)]
    fn fail(&mut self) {
        self.failed = true;
        self.bytes = &[];
    }

    /// The first `N` bytes, moving past them.
    #[inline(never)]
    fn take<const N: usize>(&mut self) -> [u8; N] {
        if let Some((head, rest)) = self.bytes.split_first_chunk::<N>() {
            self.bytes = rest;
            return *head;
        }
        self.fail();
        [0; N]
    }

    /// An unsigned integer of `bits` bits, refused as postcard refuses it: more than
    /// `ceil(bits/7)` bytes, or a last byte holding more than the remaining `bits % 7` bits.
    #[inline(never)]
    fn varint(&mut self, bits: u32) -> u64 {
        let max_len = bits.div_ceil(7);
        let max_last = (1u8 << (bits % 7)) - 1;
        let mut value = 0u64;
        for i in 0..max_len {
            let [byte] = self.take();
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                if i + 1 < max_len || byte <= max_last {
                    return value;
                }
                break;
            }
        }
        self.fail();
        0
    }

    #[inline(never)]
    pub(crate) fn u16(&mut self) -> u16 {
        self.varint(u16::BITS) as u16
    }

    #[inline(never)]
    pub(crate) fn u32(&mut self) -> u32 {
        self.varint(u32::BITS) as u32
    }

    #[inline(never)]
    pub(crate) fn u64(&mut self) -> u64 {
        self.varint(u64::BITS)
    }

    #[inline(never)]
    pub(crate) fn byte(&mut self) -> u8 {
        let [byte] = self.take();
        byte
    }

    /// A `bool`, or the tag of an `Option` (0 `None`, 1 `Some`).
    #[inline(never)]
    pub(crate) fn bool(&mut self) -> bool {
        let byte = self.byte();
        if byte > 1 {
            self.fail();
        }
        byte == 1
    }

    #[inline(never)]
    pub(crate) fn f32(&mut self) -> f32 {
        f32::from_le_bytes(self.take())
    }

    #[inline(never)]
    pub(crate) fn f64(&mut self) -> f64 {
        f64::from_le_bytes(self.take())
    }

    /// A `Vec<f32>`, as the bytes of its values (4 each, little endian): the caller decodes them
    /// where they go, without a vector of its own. A length that claims more floats than the
    /// bytes hold is refused as postcard refuses it, before anything is read.
    #[inline(never)]
    pub(crate) fn floats(&mut self) -> &'a [u8] {
        let len = self.varint(usize::BITS) as usize;
        if let Some((floats, rest)) = len.checked_mul(4).and_then(|n| self.bytes.split_at_checked(n)) {
            self.bytes = rest;
            return floats;
        }
        self.fail();
        &[]
    }

    /// The length of a sequence whose every element takes one byte at least: a `usize` of the
    /// platform, as postcard reads it. A length beyond the bytes left is refused at once (the
    /// elements cannot all be there, and postcard refuses them when it runs out), so a loop over
    /// the elements ends soon after a failed reader's.
    #[inline(never)]
    pub(crate) fn length(&mut self) -> usize {
        let len = self.varint(usize::BITS) as usize;
        if len > self.bytes.len() {
            self.fail();
            return 0;
        }
        len
    }
}

/// Why a payload is refused: the reason of a [`crate::LearningError::CorruptState`]. The loaders
/// return it, two words, rather than a whole `LearningError`, which every `?` would move (bytes
/// of the npm package at each one); their callers make it the error.
pub(super) type Refusal = &'static str;

/// What the loaders return.
pub(super) type Checked<T> = core::result::Result<T, Refusal>;

/// Why a payload that does not decode is refused.
pub(super) const UNDECODABLE: Refusal = "the payload does not decode";

/// Fills `target` with the saved vector `values` (its floats' bytes), after checking that it
/// holds `dim` floats, all finite. Kept out of line, as loading is cold: the npm package would
/// carry a copy of it in every loader.
#[inline(never)]
pub(super) fn load_vector(target: &mut [f32; MAX_DIM], values: &[u8], dim: usize) -> Checked<()> {
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

/// A sequence whose elements `skip` reads past: the bytes from its first element on, and how many
/// elements it holds.
#[inline(never)]
pub(super) fn skim<'a>(reader: &mut Reader<'a>, skip: fn(&mut Reader<'a>)) -> (&'a [u8], usize) {
    let len = reader.length();
    let elements = reader.rest();
    for _ in 0..len {
        skip(reader);
    }
    (elements, len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What postcard makes of `bytes` as a `T`, and what it leaves unread.
    fn postcard<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<(T, usize)> {
        postcard::take_from_bytes::<T>(bytes).ok().map(|(value, rest)| (value, rest.len()))
    }

    /// What `read` makes of `bytes`, and what it leaves unread.
    fn by_hand<T>(bytes: &[u8], read: impl FnOnce(&mut Reader) -> T) -> Option<(T, usize)> {
        let mut reader = Reader::new(bytes);
        let value = read(&mut reader);
        reader.decoded().then(|| (value, reader.rest().len()))
    }

    const EDGES: [u64; 12] = [
        0,
        1,
        0x7f,
        0x80,
        0x3fff,
        0x4000,
        0xffff,
        0x1_0000,
        0xffff_ffff,
        0x1_0000_0000,
        u64::MAX - 1,
        u64::MAX,
    ];

    #[test]
    fn varints_encode_as_postcard_does_at_every_length_boundary() {
        for value in EDGES {
            let mut out = Vec::new();
            out.varint(value);
            assert_eq!(out, postcard::to_allocvec(&value).unwrap(), "{value}");
            if let Ok(narrow) = u16::try_from(value) {
                assert_eq!(out, postcard::to_allocvec(&narrow).unwrap(), "{value} as u16");
            }
            if let Ok(narrow) = u32::try_from(value) {
                assert_eq!(out, postcard::to_allocvec(&narrow).unwrap(), "{value} as u32");
            }
        }
    }

    #[test]
    fn overlong_and_overflowing_varints_are_refused_as_postcard_refuses_them() {
        // Non-minimal encodings load; a last byte with bits beyond the type does not.
        let cases: [&[u8]; 8] = [
            &[0x80, 0x00],
            &[0xff, 0xff, 0x03],
            &[0xff, 0xff, 0x04],
            &[0x80, 0x80, 0x80],
            &[0xff, 0xff, 0xff, 0xff, 0x0f],
            &[0xff, 0xff, 0xff, 0xff, 0x10],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
        ];
        for bytes in cases {
            assert_eq!(by_hand(bytes, |b| b.u16()), postcard::<u16>(bytes), "{bytes:?}");
            assert_eq!(by_hand(bytes, |b| b.u32()), postcard::<u32>(bytes), "{bytes:?}");
            assert_eq!(by_hand(bytes, |b| b.u64()), postcard::<u64>(bytes), "{bytes:?}");
        }
    }

    proptest! {
        #[test]
        fn any_bytes_decode_as_postcard_decodes_them(bytes in prop::collection::vec(
            prop_oneof![Just(0u8), Just(1), Just(2), Just(0x7f), Just(0x80), Just(0xff), any::<u8>()], 0..40)) {
            prop_assert_eq!(by_hand(&bytes, |b| b.u16()), postcard::<u16>(&bytes));
            prop_assert_eq!(by_hand(&bytes, |b| b.u32()), postcard::<u32>(&bytes));
            prop_assert_eq!(by_hand(&bytes, |b| b.u64()), postcard::<u64>(&bytes));
            prop_assert_eq!(by_hand(&bytes, |b| b.byte()), postcard::<u8>(&bytes));
            prop_assert_eq!(by_hand(&bytes, |b| b.bool()), postcard::<bool>(&bytes));
            // Floats compared as bits: NaN payloads must survive too.
            let bits = |v: Option<(Vec<f32>, usize)>| v.map(|(v, n)| (v.iter().map(|f| f.to_bits()).collect::<Vec<_>>(), n));
            let floats = |r: &mut Reader| r.floats().chunks(4).map(|v| f32::from_le_bytes(v.try_into().unwrap())).collect();
            prop_assert_eq!(bits(by_hand(&bytes, floats)), bits(postcard::<Vec<f32>>(&bytes)));
            let bools = |r: &mut Reader| (0..r.length()).map(|_| r.bool()).collect::<Vec<_>>();
            prop_assert_eq!(by_hand(&bytes, bools), postcard::<Vec<bool>>(&bytes));
            let option = |r: &mut Reader| if r.bool() { Some((r.f64().to_bits(), r.u32())) } else { None };
            let expected = postcard::<Option<(f64, u32)>>(&bytes).map(|(v, n)| (v.map(|(f, a)| (f.to_bits(), a)), n));
            prop_assert_eq!(by_hand(&bytes, option), expected);
        }

        #[test]
        fn any_values_encode_as_postcard_encodes_them(
            value in any::<u64>(), byte in any::<u8>(), single in any::<f32>(), double in any::<f64>(),
            floats in prop::collection::vec(any::<f32>(), 0..200),
        ) {
            let mut out = Vec::new();
            out.varint(value);
            out.byte(byte);
            out.f32(single);
            out.f64(double);
            out.floats(&floats);
            prop_assert_eq!(out, postcard::to_allocvec(&(value, byte, single, double, &floats)).unwrap());
        }
    }
}
