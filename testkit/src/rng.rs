//! A tiny deterministic PRNG (xorshift64*), so that a run that failed can
//! be repeated with the same choices, and its seed from the environment.

/// xorshift64*.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded through a multiplication, so that small seeds spread.
    pub fn new(seed: u64) -> Rng {
        // Never zero: xorshift would stay there.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The state as given (not zero), for a sequence fixed long ago.
    pub fn from_state(state: u64) -> Rng {
        assert_ne!(state, 0, "xorshift stays at zero");
        Rng(state)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform enough in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform enough in `low..=high`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// The seed: `name` from the environment when set (to repeat a run),
/// otherwise `default`.
pub fn seed(name: &str, default: u64) -> u64 {
    crate::env_or(name, default)
}
