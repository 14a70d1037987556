//! Building saved states by hand: an envelope with a valid checksum around any payload, so that a
//! test reaches the payload's own checks.

/// CRC-32 (IEEE), bit by bit: an independent check of the envelope's checksum.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// An envelope like `original`'s (magic, version, kind) around `payload`, with its length and a
/// valid checksum.
pub fn envelope(original: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut bytes = original[..8].to_vec();
    bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    bytes.extend_from_slice(payload);
    let checksum = crc32(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    bytes
}

/// The payload of an envelope.
pub fn payload(bytes: &[u8]) -> &[u8] {
    &bytes[12..bytes.len() - 4]
}
