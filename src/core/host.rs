//! A webhook endpoint's host, read as the WHATWG URL standard reads it (and so as `fetch` will
//! connect to it), then judged public or not.
//!
//! Reading first matters: the standard turns `0x7f.1`, `0177.0.0.1`, `2130706433` and `127.1`
//! into 127.0.0.1, so a rule that looks at the text lets them through. Here a host whose last
//! label is a number is an IPv4 address (the standard's IPv4 parser: one to four parts, each
//! decimal, `0x` hexadecimal or leading-`0` octal, the last filling the remaining bytes) or it
//! is no host at all. An IPv6 address that carries an IPv4 address (mapped, compatible, SIIT,
//! NAT64, 6to4, Teredo) is judged by what it carries; outside those, only global unicast
//! (`2000::/3`) minus its special-purpose blocks is public.
//!
//! Hand-written rather than `url::Host::parse`: the `url` crate is in Cargo.lock (through
//! `worker`) but keygate never calls it, so none of it is in the wasm; its host parser would
//! link IDNA's Unicode tables for what is forty lines here. Hosts reach this ASCII-only, with no
//! `%` (refused earlier), so percent-decoding and IDNA have nothing to change.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A URL's host, as the URL standard reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    /// A DNS name: lowercase letters, digits, `-`, dots; no trailing dot.
    Name(String),
}

/// Not a host the URL standard (or DNS) accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::V4(a) => write!(f, "{a}"),
            Host::V6(a) => write!(f, "[{a}]"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

impl Host {
    /// Reads a URL's host as written between `//` and the port: `[v6]`, a numeric IPv4 form, or a
    /// name. ASCII, lowercased by the caller.
    pub fn parse(s: &str) -> Result<Host, Malformed> {
        if let Some(inner) = s.strip_prefix('[') {
            let v6 = inner.strip_suffix(']').ok_or(Malformed)?;
            return v6.parse().map(Host::V6).map_err(|_| Malformed);
        }
        if ends_in_a_number(s) {
            return parse_ipv4(s).map(Host::V4).ok_or(Malformed);
        }
        let name = s.strip_suffix('.').unwrap_or(s);
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
            return Err(Malformed);
        }
        Ok(Host::Name(name.to_ascii_lowercase()))
    }

    /// Is this host one a webhook may be sent to? An address outside every special-purpose
    /// range, or a DNS name that is not local by convention. (A name may still resolve to a
    /// private address; Workers' outbound `fetch` cannot reach private networks, which is the
    /// other half of this guard.)
    pub fn is_public(&self) -> bool {
        match self {
            Host::V4(a) => public_v4(*a),
            Host::V6(a) => public_v6(*a),
            Host::Name(n) => {
                let local_suffix = [".localhost", ".local", ".internal", ".home.arpa", ".lan"];
                n.contains('.') && !local_suffix.iter().any(|s| n.ends_with(s))
            }
        }
    }
}

/// The standard's "ends in a number checker": the last label (after one trailing dot) is all
/// digits, or an IPv4 number (`0x…`). Such a host is an IPv4 address or invalid.
fn ends_in_a_number(s: &str) -> bool {
    let s = s.strip_suffix('.').filter(|t| !t.is_empty()).unwrap_or(s);
    let last = s.rsplit('.').next().unwrap_or(s);
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())) || ipv4_number(last).is_some()
}

/// The standard's IPv4 number parser: `0x`/`0X` hexadecimal (`0x` alone is 0), a leading `0`
/// octal, else decimal. Saturates (anything past 2^32 is refused by the caller anyway).
fn ipv4_number(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let (digits, radix) = if s.len() >= 2 && (s.starts_with("0x") || s.starts_with("0X")) {
        (&s[2..], 16)
    } else if s.len() >= 2 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    digits.chars().try_fold(0u64, |n, c| {
        let d = c.to_digit(radix)?;
        Some(
            n.saturating_mul(u64::from(radix))
                .saturating_add(u64::from(d)),
        )
    })
}

/// The standard's IPv4 parser: up to four parts (a trailing dot ignored), each a number; every
/// part but the last one byte, the last filling the bytes that remain.
fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let s = s.strip_suffix('.').filter(|t| !t.is_empty()).unwrap_or(s);
    let numbers: Vec<u64> = s.split('.').map(ipv4_number).collect::<Option<_>>()?;
    let (last, init) = numbers.split_last()?;
    if numbers.len() > 4 || init.iter().any(|&n| n > 255) {
        return None;
    }
    if *last >= 1u64 << (8 * (5 - numbers.len())) {
        return None;
    }
    let value = init
        .iter()
        .enumerate()
        .fold(*last, |v, (i, n)| v + (n << (8 * (3 - i))));
    Some(Ipv4Addr::from(value as u32))
}

/// Outside every IPv4 special-purpose range (RFC 6890 and its updates).
fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network" 0.0.0.0/8
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT) 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0/24
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast 192.88.99/24
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || a >= 240) // reserved 240/4
}

/// An IPv6 address that carries an IPv4 address is judged by it (every carrier listed here,
/// each of whose embedded address `fetch` may end up reaching); otherwise only global unicast
/// `2000::/3`, minus its special-purpose blocks, is public. Everything else — loopback,
/// unspecified, unique local `fc00::/7`, link-local `fe80::/10`, site-local `fec0::/10`,
/// multicast, discard-only `100::/64`, local-use NAT64 `64:ff9b:1::/48` — lies outside it.
fn public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        // IPv4-compatible ::a.b.c.d (:: and ::1 land in 0.0.0.0/8) and IPv4-mapped
        // ::ffff:a.b.c.d.
        [0, 0, 0, 0, 0, 0 | 0xffff, hi, lo] => public_v4(v4(hi, lo)),
        // SIIT, IPv4-translated ::ffff:0:a.b.c.d.
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => public_v4(v4(hi, lo)),
        // NAT64, the well-known prefix 64:ff9b::/96.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => public_v4(v4(hi, lo)),
        // 6to4 2002::/16: the IPv4 address in bits 16..48.
        [0x2002, hi, lo, ..] => public_v4(v4(hi, lo)),
        // Teredo 2001::/32: the server in bits 32..64, the client inverted in the last 32.
        [0x2001, 0, shi, slo, _, _, chi, clo] => {
            public_v4(v4(shi, slo)) && public_v4(v4(!chi, !clo))
        }
        // The other IETF protocol assignments 2001::/23 (benchmarking 2001:2::/48, ORCHID,
        // AMT, …) and documentation 2001:db8::/32 and 3fff::/20.
        [0x2001, b, ..] if b < 0x0200 || b == 0x0db8 => false,
        [0x3fff, b, ..] if b < 0x1000 => false,
        [first, ..] => first & 0xe000 == 0x2000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Host {
        Host::V4(s.parse().unwrap())
    }

    #[test]
    fn every_numeric_ipv4_form_is_the_address_it_denotes() {
        let forms = [
            ("127.0.0.1", "127.0.0.1"),
            ("127.0.0.1.", "127.0.0.1"),
            ("0x7f.0.0.1", "127.0.0.1"),
            ("0X7F.0.0.1", "127.0.0.1"),
            ("0x7f.1", "127.0.0.1"),
            ("0177.0.0.1", "127.0.0.1"),
            ("0177.1", "127.0.0.1"),
            ("127.1", "127.0.0.1"),
            ("127.0.1", "127.0.0.1"),
            ("2130706433", "127.0.0.1"),
            ("0x7f000001", "127.0.0.1"),
            ("017700000001", "127.0.0.1"),
            ("0xa.1", "10.0.0.1"),
            ("012.1", "10.0.0.1"),
            ("10.1", "10.0.0.1"),
            ("0x0a.0.0.01", "10.0.0.1"),
            ("167772161", "10.0.0.1"),
            ("0300.0250.1.1", "192.168.1.1"),
            ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
            ("0", "0.0.0.0"),
            ("0x", "0.0.0.0"),
            ("0x.0x.0x.0x", "0.0.0.0"),
            ("4294967295", "255.255.255.255"),
            ("0x5db8d822", "93.184.216.34"),
            ("93.12113954", "93.184.216.34"),
            ("0135.0270.0330.042", "93.184.216.34"),
        ];
        for (text, addr) in forms {
            assert_eq!(Host::parse(text), Ok(v4(addr)), "{text}");
        }
    }

    #[test]
    fn a_host_ending_in_a_number_is_an_address_or_nothing() {
        for bad in [
            "1.2.3.4.5",
            "256.1.1.1",
            "1.256.1.1",
            "1.2.65536",
            "4294967296",
            "0x100000000",
            "09.1.1.1",
            "08",
            "1..1",
            ".1",
            "1.2.3.4..",
            "0xg.1",
            "example.123",
            "example.0x1",
            "example.0x",
            "99999999999999999999999999",
        ] {
            assert_eq!(Host::parse(bad), Err(Malformed), "{bad}");
        }
    }

    #[test]
    fn names_and_bracketed_addresses() {
        assert_eq!(
            Host::parse("hooks.example.com."),
            Ok(Host::Name("hooks.example.com".into()))
        );
        assert_eq!(
            Host::parse("0x7f.example.com"),
            Ok(Host::Name("0x7f.example.com".into()))
        );
        assert_eq!(
            Host::parse("[::1]"),
            Ok(Host::V6(Ipv6Addr::LOCALHOST)),
            "brackets: IPv6"
        );
        for bad in [
            "",
            ".",
            "a..b",
            "-a.com",
            "a_b.com",
            "a%2eb.com",
            "::1",
            "[::1",
            "[127.0.0.1]",
            "[::1%eth0]",
        ] {
            assert_eq!(Host::parse(bad), Err(Malformed), "{bad:?}");
        }
        assert_eq!(
            Host::parse("[2606:4700::1111]").unwrap().to_string(),
            "[2606:4700::1111]"
        );
        assert_eq!(Host::parse("0x7f.1").unwrap().to_string(), "127.0.0.1");
    }

    #[test]
    fn only_public_hosts_are_public() {
        let refused = [
            // IPv4, in any notation.
            "127.0.0.1",
            "0x7f.0.0.1",
            "0x7f.1",
            "0177.0.0.1",
            "2130706433",
            "127.1",
            "0xa.1",
            "012.1",
            "10.1",
            "0xa9fea9fe",
            "172.16.0.1",
            "0300.0250.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0x64.0x40.0.1",
            "0",
            "0.1.2.3",
            "4294967295",
            "224.0.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "192.0.0.8",
            "192.88.99.1",
            "240.0.0.1",
            // IPv6 and the IPv4 addresses it carries.
            "[::]",
            "[::1]",
            "[::127.0.0.1]",
            "[::7f00:1]",
            "[::10.0.0.1]",
            "[::ffff:127.0.0.1]",
            "[::ffff:7f00:1]",
            "[::ffff:10.0.0.1]",
            "[::ffff:0:7f00:1]",
            "[::ffff:0:127.0.0.1]",
            "[::ffff:0:a00:1]",
            "[64:ff9b::7f00:1]",
            "[64:ff9b::10.0.0.1]",
            "[64:ff9b:1::5db8:d822]",
            "[2002:7f00:1::]",
            "[2002:a00:1::1]",
            "[2002:c0a8:101::]",
            "[2001:0:7f00:1::]",
            "[2001:0:5db8:d822::80ff:fefe]",
            "[2001:0:5db8:d822:0:0:f5ff:fffe]",
            "[fec0::1]",
            "[feff::1]",
            "[fe80::1]",
            "[fc00::1]",
            "[fd12:3456::1]",
            "[ff02::1]",
            "[100::1]",
            "[2001:db8::1]",
            "[2001:2::1]",
            "[2001:10::1]",
            "[3fff::1]",
            "[5f00::1]",
            // Names local by convention.
            "localhost",
            "localhost.",
            "api.localhost",
            "printer.local",
            "db.internal",
            "nas.home.arpa",
            "intranet",
        ];
        for h in refused {
            assert!(!Host::parse(h).unwrap().is_public(), "{h}");
        }
        let accepted = [
            "hooks.example.com",
            "example.com.",
            "0x7f.example.com",
            "123.example.com",
            "93.184.216.34",
            "0x5db8d822",
            "1.1.1.1",
            "8.8.8.8",
            "[2606:4700::1111]",
            "[2a00:1450:4001:82b::200e]",
            "[::ffff:93.184.216.34]",
            "[::93.184.216.34]",
            "[64:ff9b::5db8:d822]",
            "[2002:5db8:d822::1]",
            // Teredo, server and client (inverted: a247:27dd is 93.184.216.34) both public.
            "[2001:0:5db8:d822:0:0:a247:27dd]",
        ];
        for h in accepted {
            assert!(Host::parse(h).unwrap().is_public(), "{h}");
        }
    }
}
