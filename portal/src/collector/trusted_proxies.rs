//! Who the client is when a reverse proxy connects for it.
//!
//! Behind nginx every request comes from nginx's address, so a rate limit
//! keyed on the peer would put every customer in one bucket. nginx appends
//! the address it saw to `X-Forwarded-For`; but anyone can send that
//! header, so it is believed only from a configured proxy, and only as far
//! as the chain of configured proxies reaches:
//!
//! - a peer that is not a trusted proxy is the client; its
//!   `X-Forwarded-For` is ignored entirely;
//! - from a trusted proxy, the entries of every `X-Forwarded-For` header
//!   (in order, as if joined by commas) are read from the right: the
//!   first that is not a trusted proxy is the client. Everything left of
//!   it was written by that client, or by someone before it, and is
//!   ignored;
//! - when every entry is a trusted proxy, the request started at a proxy:
//!   the left-most entry is the client;
//! - no header, or an entry that is not a plain IP address (empty, a port,
//!   garbage) before a client was found: the peer is the client. A trusted
//!   proxy always appends a plain address, so a broken chain means a
//!   misconfigured proxy, and the peer is the one address known for sure.
//!   Garbage a client writes sits left of the address its proxy appended
//!   and is never reached.

use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

/// The addresses and networks whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    networks: Arc<[IpNet]>,
}

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies {
            networks: networks.into(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether `ip` (an IPv4-mapped IPv6 address counts as its IPv4
    /// address) is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request from `peer` carrying these
    /// `X-Forwarded-For` header values (in the order they came); see the
    /// module's rules.
    pub fn client<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a [u8]>,
    ) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let values: Vec<&[u8]> = forwarded_for.into_iter().collect();
        let entries = values
            .iter()
            .rev()
            .flat_map(|value| value.split(|b| *b == b',').rev());
        let mut left_most_proxy = None;
        for entry in entries {
            let Some(ip) = std::str::from_utf8(entry)
                .ok()
                .and_then(|text| text.trim().parse::<IpAddr>().ok())
            else {
                return peer;
            };
            if !self.contains(ip) {
                return ip;
            }
            left_most_proxy = Some(ip);
        }
        left_most_proxy.unwrap_or(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(entries: &[&str]) -> TrustedProxies {
        let entries: Vec<String> = entries.iter().map(|e| (*e).to_owned()).collect();
        TrustedProxies::new(crate::config::trusted_networks(&entries).unwrap())
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// The client of a request from `peer` with these header values.
    fn client(trusted: &TrustedProxies, peer: &str, headers: &[&str]) -> IpAddr {
        trusted.client(ip(peer), headers.iter().map(|h| h.as_bytes()))
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = proxies(&["127.0.0.1"]);
        assert_eq!(
            client(&trusted, "203.0.113.9", &["198.51.100.1"]),
            ip("203.0.113.9")
        );
        assert_eq!(client(&trusted, "203.0.113.9", &[]), ip("203.0.113.9"));
        // Nobody trusted: the header means nothing even from loopback.
        let nobody = TrustedProxies::default();
        assert_eq!(
            client(&nobody, "127.0.0.1", &["198.51.100.1"]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn from_a_trusted_proxy_the_right_most_untrusted_entry_is_the_client() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(
            client(&trusted, "127.0.0.1", &["198.51.100.1"]),
            ip("198.51.100.1")
        );
        // A client's forged entries sit left of what nginx appended.
        assert_eq!(
            client(&trusted, "127.0.0.1", &["1.2.3.4, 5.6.7.8, 198.51.100.1"]),
            ip("198.51.100.1")
        );
        // Proxies in a chain are walked past.
        assert_eq!(
            client(
                &trusted,
                "127.0.0.1",
                &["1.2.3.4, 198.51.100.1, 10.1.2.3,10.9.9.9"]
            ),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn several_headers_are_one_list_in_order() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(
            client(
                &trusted,
                "127.0.0.1",
                &["1.2.3.4", "198.51.100.1, 10.0.0.2", "10.0.0.3"]
            ),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn a_broken_entry_before_the_client_means_the_peer() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        for header in [
            "garbage",
            "10.0.0.2, ",
            "",
            "198.51.100.1:4711",
            "unknown, 10.0.0.2",
        ] {
            assert_eq!(
                client(&trusted, "127.0.0.1", &[header]),
                ip("127.0.0.1"),
                "{header:?}"
            );
        }
        // Garbage left of the client is never read.
        assert_eq!(
            client(&trusted, "127.0.0.1", &["garbage, 198.51.100.1"]),
            ip("198.51.100.1")
        );
        // Not UTF-8.
        let trusted_peer = ip("127.0.0.1");
        assert_eq!(
            trusted.client(trusted_peer, [&b"\xff\xfe"[..]]),
            trusted_peer
        );
    }

    #[test]
    fn a_request_from_the_proxies_themselves_is_the_left_most_proxy() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(
            client(&trusted, "127.0.0.1", &["10.0.0.7, 10.0.0.2"]),
            ip("10.0.0.7")
        );
        assert_eq!(client(&trusted, "127.0.0.1", &[]), ip("127.0.0.1"));
    }

    #[test]
    fn an_entry_that_is_no_address_is_refused_by_name_with_an_example() {
        let entries = ["127.0.0.1".to_owned(), "10.0.0.300/8".to_owned()];
        let message = crate::config::trusted_networks(&entries).unwrap_err();
        assert!(message.contains("'10.0.0.300/8'"), "{message}");
        assert!(
            message.contains("trusted_proxies = [\"127.0.0.1\""),
            "{message}"
        );
        for entry in ["nginx", "10.0.0.0/33", "::1/129", ""] {
            assert!(
                crate::config::trusted_networks(&[entry.to_owned()]).is_err(),
                "{entry}"
            );
        }
    }

    #[test]
    fn ipv6_and_mapped_addresses() {
        let trusted = proxies(&["::1", "2001:db8:aa::/48", "192.0.2.10"]);
        assert_eq!(
            client(&trusted, "::1", &["2001:db8:1::5"]),
            ip("2001:db8:1::5")
        );
        assert_eq!(
            client(
                &trusted,
                "2001:db8:aa:1::9",
                &["2001:db8:1::5, 2001:db8:aa::1"]
            ),
            ip("2001:db8:1::5")
        );
        // A dual-stack socket shows an IPv4 proxy as ::ffff:a.b.c.d.
        assert_eq!(
            client(&trusted, "::ffff:192.0.2.10", &["198.51.100.1"]),
            ip("198.51.100.1")
        );
        assert!(!trusted.contains(ip("2001:db8:ab::1")));
    }
}
