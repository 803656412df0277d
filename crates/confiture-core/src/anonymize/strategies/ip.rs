//! `ip`: keep the network part of an address, replace the host part.
//!
//! Options: `keep_prefix` (IPv4 bits kept, 0..=31, default 16) and `keep_prefix_v6` (IPv6 bits
//! kept, 0..=127, default 48). The host bits come from an HMAC of the address (stable under a
//! key, per run without one). A `/len` suffix (inet, cidr) is kept, so the output stays a valid
//! inet. A value that is not an address becomes NULL: the strategy fails closed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::anonymize::{Options, Row};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct Ip {
    pub keep_prefix: u32,
    pub keep_prefix_v6: u32,
}

impl Ip {
    pub fn load(o: &mut Options) -> Result<Self> {
        Ok(Ip {
            keep_prefix: o.u64("keep_prefix", 16, 31)? as u32,
            keep_prefix_v6: o.u64("keep_prefix_v6", 48, 127)? as u32,
        })
    }

    pub fn apply(&self, value: &str, row: &Row) -> Option<String> {
        let (addr, suffix) = match value.split_once('/') {
            Some((a, len)) => (a, format!("/{len}")),
            None => (value, String::new()),
        };
        let mac = row.key().mac("ip", value);
        let random = u128::from_be_bytes(mac[..16].try_into().expect("16 bytes"));
        let out = match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => {
                let host = u32::MAX >> self.keep_prefix;
                let bits = (u32::from(a) & !host) | (random as u32 & host);
                IpAddr::V4(Ipv4Addr::from(bits))
            }
            IpAddr::V6(a) => {
                let host = u128::MAX >> self.keep_prefix_v6;
                let bits = (u128::from(a) & !host) | (random & host);
                IpAddr::V6(Ipv6Addr::from(bits))
            }
        };
        Some(format!("{out}{suffix}"))
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testutil::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    #[test]
    fn ipv4_keeps_the_subnet() {
        let s = strategy("ip", "keep_prefix: 24");
        let out = keyed(&s, "inet", "192.168.10.77");
        let a: Ipv4Addr = out.parse().unwrap();
        assert_eq!(a.octets()[..3], [192, 168, 10]);
        assert_eq!(out, keyed(&s, "inet", "192.168.10.77"));
        let d = strategy("ip", "");
        let out = keyed(&d, "inet", "10.1.2.3/8");
        let (addr, len) = out.split_once('/').unwrap();
        assert_eq!(len, "8");
        assert_eq!(addr.parse::<Ipv4Addr>().unwrap().octets()[..2], [10, 1]);
        assert_ne!(out, "10.1.2.3/8");
    }

    #[test]
    fn ipv6_keeps_48_bits_by_default() {
        let s = strategy("ip", "");
        let out = keyed(&s, "inet", "2001:db8:abcd:12::1");
        let a: Ipv6Addr = out.parse().unwrap();
        assert_eq!(a.segments()[..3], [0x2001, 0xdb8, 0xabcd]);
        assert_ne!(
            out.parse::<IpAddr>().unwrap(),
            "2001:db8:abcd:12::1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn garbage_becomes_null_and_prefix_is_bounded() {
        let key = crate::anonymize::Key::new("k");
        let s = strategy("ip", "");
        assert_eq!(s.apply(Some("not-an-ip"), &row("inet", Some(&key))), None);
        assert_eq!(
            try_load("ip", "keep_prefix: 32", true).unwrap_err().code.id,
            "CONFIG_010"
        );
    }
}
