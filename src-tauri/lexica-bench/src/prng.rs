//! SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast generator with good statistical
//! quality for simulation. Chosen over a crate (`rand`) because the generator needs only
//! "uniform integers from a 64-bit seed", and one function cannot change behind our back
//! between versions, which keeps generated corpora byte-identical over time.

/// The golden-ratio increment of SplitMix64.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
/// An odd constant that spreads record indices before they meet the seed, so record `i` of
/// seed `s` and record `s` of seed `i` do not start from the same state.
const INDEX_SPREAD: u64 = 0xD1B5_4A32_D192_ED03;

/// A SplitMix64 stream.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The stream of record `index` under `seed`: depends on nothing else.
    pub fn for_record(seed: u64, index: u64) -> SplitMix64 {
        // Mix the seed once so that nearby seeds (0, 1, 2) give unrelated streams.
        let mixed = SplitMix64::new(seed).next_u64();
        SplitMix64::new(mixed ^ index.wrapping_mul(INDEX_SPREAD))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..n` (`n > 0`), by Lemire's multiply-shift (bias below 2^-32 for
    /// the sizes used here, far under anything a benchmark corpus could show).
    pub fn below(&mut self, n: usize) -> usize {
        let n = n.max(1) as u64;
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as usize
    }

    /// A uniform integer in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_first_outputs() {
        // Reference values of SplitMix64 seeded with 0 (as in Vigna's splitmix64.c).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn records_get_distinct_streams_and_below_stays_in_range() {
        let a = SplitMix64::for_record(7, 1).next_u64();
        let b = SplitMix64::for_record(7, 2).next_u64();
        let c = SplitMix64::for_record(1, 7).next_u64();
        assert!(a != b && a != c && b != c);
        let mut r = SplitMix64::new(42);
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            seen[r.below(10)] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
        assert_eq!(SplitMix64::new(1).between(5, 5), 5);
    }
}
