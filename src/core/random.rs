//! Randomness as an argument: the core asks a [`Random`] for bytes and never reaches for a
//! generator itself, so tests can feed fixed bytes and check exact outputs.

/// A source of random bytes.
pub trait Random {
    fn fill(&mut self, buf: &mut [u8]);
}

/// The platform CSPRNG (`crypto.getRandomValues` on Workers, the OS generator natively).
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        // getrandom fails only when the platform has no CSPRNG at all; a key made without one
        // would be guessable, so stopping here is the only safe answer.
        getrandom::fill(buf).expect("the platform CSPRNG is unavailable");
    }
}

/// Repeats a fixed byte sequence: for tests that need known outputs.
#[cfg(test)]
pub struct FixedRandom(pub Vec<u8>, pub usize);

#[cfg(test)]
impl Random for FixedRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.0[self.1 % self.0.len()];
            self.1 += 1;
        }
    }
}
