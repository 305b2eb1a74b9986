//! The IP allow-list of a key (`allowed_ips`): at most 100 IPv4/IPv6 CIDRs or single addresses,
//! parsed once (on create or `PATCH`) into a compact form stored with the key, so each check is
//! a scan of at most 100 `(network, mask)` pairs of 128-bit integers and nothing is parsed.
//! IPv4 lives in the IPv4-mapped range (`::ffff:0:0/96`), so `10.0.0.0/8` and the client's
//! `10.1.2.3` compare as IPv6 `::ffff:10.0.0.0/104` and `::ffff:10.1.2.3`.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// At most this many entries.
pub const MAX_ENTRIES: usize = 100;

/// One network: its first address (IPv4 mapped) as two halves and its prefix length over 128
/// bits. Stored as the compact JSON `[hi, lo, len]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Net(u64, u64, u8);

/// The parsed allow-list. An empty list is never stored: `allowed_ips: []` means no list.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AllowList(Vec<Net>);

/// Why an entry was refused: its index and the text given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadEntry {
    pub index: usize,
    pub entry: String,
}

/// Why a list was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListError {
    TooMany,
    Bad(BadEntry),
}

const V4_MAPPED: u128 = 0xffff_0000_0000;

fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => V4_MAPPED | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => to_u128(IpAddr::V4(v4)),
            None => u128::from(v6),
        },
    }
}

fn mask(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

impl Net {
    fn bits(self) -> u128 {
        (u128::from(self.0) << 64) | u128::from(self.1)
    }

    /// Parses `a.b.c.d`, `a.b.c.d/n` (n ≤ 32), an IPv6 address, or `x::/n` (n ≤ 128). Host bits
    /// set under the prefix are refused (`10.0.0.1/8` is ambiguous: a typo or a host?).
    pub fn parse(s: &str) -> Option<Net> {
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => {
                if l.is_empty() || l.len() > 3 || !l.bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                (a, Some(l.parse::<u8>().ok()?))
            }
            None => (s, None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let (max, offset) = match ip {
            IpAddr::V4(_) => (32u8, 96u8),
            IpAddr::V6(_) => (128, 0),
        };
        let len = len.unwrap_or(max);
        if len > max {
            return None;
        }
        let len = len + offset;
        let bits = to_u128(ip);
        if bits & !mask(len) != 0 {
            return None;
        }
        Some(Net((bits >> 64) as u64, bits as u64, len))
    }

    fn contains(self, ip: u128) -> bool {
        ip & mask(self.2) == self.bits()
    }
}

impl std::fmt::Display for Net {
    /// The canonical text: IPv4 as `a.b.c.d/n`, IPv6 as its compressed form `/n`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bits = self.bits();
        if self.2 >= 96 && bits >> 32 == V4_MAPPED >> 32 {
            write!(f, "{}/{}", Ipv4Addr::from(bits as u32), self.2 - 96)
        } else {
            write!(f, "{}/{}", Ipv6Addr::from(bits), self.2)
        }
    }
}

impl AllowList {
    /// Parses the entries as given: at most [`MAX_ENTRIES`], each one a CIDR or an address.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<AllowList, ListError> {
        if entries.len() > MAX_ENTRIES {
            return Err(ListError::TooMany);
        }
        let nets = entries
            .iter()
            .enumerate()
            .map(|(index, e)| {
                Net::parse(e.as_ref().trim()).ok_or_else(|| {
                    ListError::Bad(BadEntry {
                        index,
                        entry: e.as_ref().to_owned(),
                    })
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AllowList(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the client's address is allowed. No address (a request that did not say where
    /// it came from) is not allowed by a key that has a list.
    pub fn allows(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip else { return false };
        let ip = to_u128(ip);
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The entries in their canonical text, as the key's view shows them.
    pub fn entries(&self) -> Vec<String> {
        self.0.iter().map(Net::to_string).collect()
    }
}

/// Parses a client address as sent (`ip` of the verify body, `CF-Connecting-IP`).
pub fn parse_client_ip(s: &str) -> Option<IpAddr> {
    s.trim().parse().ok()
}

#[cfg(test)]
#[path = "ip_allow_tests.rs"]
mod tests;
