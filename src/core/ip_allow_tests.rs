use super::*;

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn list(entries: &[&str]) -> AllowList {
    AllowList::parse(entries).unwrap()
}

#[test]
fn cidrs_and_single_addresses_of_both_families() {
    let l = list(&["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]);
    assert!(l.allows(ip("203.0.113.0")));
    assert!(l.allows(ip("203.0.113.255")));
    assert!(!l.allows(ip("203.0.114.0")));
    assert!(l.allows(ip("198.51.100.7")));
    assert!(!l.allows(ip("198.51.100.8")));
    assert!(l.allows(ip("2001:db8:ffff::1")));
    assert!(!l.allows(ip("2001:db9::1")));
    assert!(
        !l.allows(None),
        "no address is not allowed by a key with a list"
    );
}

#[test]
fn ipv4_mapped_ipv6_is_the_ipv4_address() {
    let l = list(&["10.0.0.0/8"]);
    assert!(l.allows(ip("::ffff:10.1.2.3")));
    assert!(!l.allows(ip("::ffff:11.1.2.3")));
    // /0 of one family is that whole family, not the other.
    assert!(list(&["0.0.0.0/0"]).allows(ip("255.255.255.255")));
    assert!(!list(&["0.0.0.0/0"]).allows(ip("2001:db8::1")));
    assert!(list(&["::/0"]).allows(ip("2001:db8::1")));
}

#[test]
fn bad_entries_are_named_by_index_and_text() {
    for bad in [
        "10.0.0.1/8",
        "10.0.0.0/33",
        "2001:db8::/129",
        "10.0.0",
        "10.0.0.0/",
        "10.0.0.0/+8",
        "10.0.0.0/08x",
        "host.example",
        "",
        "2001:db8::1/64",
    ] {
        assert_eq!(
            AllowList::parse(&["10.0.0.0/8", bad]),
            Err(ListError::Bad(BadEntry {
                index: 1,
                entry: bad.to_owned()
            })),
            "{bad}"
        );
    }
    let many: Vec<String> = (0..101).map(|i| format!("10.0.{i}.0/24")).collect();
    assert_eq!(AllowList::parse(&many), Err(ListError::TooMany));
    assert!(AllowList::parse(&many[..100]).is_ok());
}

#[test]
fn canonical_text_and_compact_storage_round_trip() {
    let l = list(&[
        "203.0.113.0/24",
        "2001:0db8:0000::/32",
        "198.51.100.7",
        "::1",
    ]);
    assert_eq!(
        l.entries(),
        [
            "203.0.113.0/24",
            "2001:db8::/32",
            "198.51.100.7/32",
            "::1/128"
        ]
    );
    let json = serde_json::to_string(&l).unwrap();
    let back: AllowList = serde_json::from_str(&json).unwrap();
    assert_eq!(back, l);
    assert_eq!(AllowList::parse(&back.entries()).unwrap(), l);
}

/// The budget: 100 CIDRs cost at most 5 µs per check (run with `--ignored --release`).
#[test]
#[ignore]
fn a_hundred_cidrs_check_within_five_microseconds() {
    let entries: Vec<String> = (0..50)
        .map(|i| format!("10.{i}.0.0/16"))
        .chain((0..50).map(|i| format!("2001:db8:{i:x}::/48")))
        .collect();
    let l = AllowList::parse(&entries).unwrap();
    let miss = ip("192.0.2.1");
    let n = 100_000u32;
    let start = std::time::Instant::now();
    for _ in 0..n {
        assert!(!l.allows(std::hint::black_box(miss)));
    }
    let per = start.elapsed() / n;
    eprintln!("100 CIDRs, a miss: {per:?} per check");
    assert!(per <= std::time::Duration::from_micros(5), "{per:?}");
}
