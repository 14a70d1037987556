//! What the unit tests of several modules share.

/// A small deterministic generator for the tests: SplitMix64 and Box–Muller.
pub(crate) struct TestRng(pub(crate) u64);

impl TestRng {
    pub(crate) fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn normal(&mut self) -> f64 {
        super::steering::standard_normal(|| self.uniform())
    }
}
