//! Base62 (`0-9A-Za-z`, in that order): the alphabet of key bodies, checksums and ids.
//! It survives copy-paste, URLs and double-click selection, unlike base64's `+/=`.

use super::random::Random;

pub const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

pub fn is_base62(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// `n` uniformly random base62 characters. Bytes of 248 and above are thrown away (rejection
/// sampling), so that `byte % 62` favours no character.
pub fn random_string(rng: &mut impl Random, n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        rng.fill(&mut buf);
        for &b in &buf {
            if b < 248 && out.len() < n {
                out.push(ALPHABET[usize::from(b % 62)] as char);
            }
        }
    }
    out
}

/// `value` in base62, left-padded with `0` to exactly `width` characters.
/// `width` must be large enough for `value` (6 characters hold any `u32`).
pub fn encode_fixed(mut value: u64, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    debug_assert_eq!(value, 0, "value does not fit in {width} base62 characters");
    String::from_utf8(out).expect("base62 is ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::random::FixedRandom;

    #[test]
    fn fixed_width_encoding() {
        assert_eq!(encode_fixed(0, 6), "000000");
        assert_eq!(encode_fixed(61, 6), "00000z");
        assert_eq!(encode_fixed(62, 6), "000010");
        assert_eq!(encode_fixed(u64::from(u32::MAX), 6), "4gfFC3");
    }

    #[test]
    fn random_string_skips_biased_bytes() {
        // 248..=255 are rejected; 0, 61 and 62 map to '0', 'z' and '0'.
        let mut rng = FixedRandom(vec![255, 0, 248, 61, 62], 0);
        assert_eq!(random_string(&mut rng, 3), "0z0");
    }
}
