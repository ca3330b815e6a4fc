//! Web Push rules (SPEC §9.2): which push service addresses a subscription may name, how long a
//! push may wait for an offline device, and how urgent it is. The sending itself (RFC 8291
//! encryption, VAPID) is the server's.

use std::net::{IpAddr, Ipv4Addr};

use crate::ladder::{Steps, Urgency};

/// Longest endpoint URL stored. Push services' endpoints are a few hundred bytes.
pub const MAX_ENDPOINT_BYTES: usize = 1024;

/// Subscriptions kept per user (browsers and devices); a new one beyond this replaces the
/// oldest.
pub const MAX_SUBSCRIPTIONS_PER_USER: u32 = 10;

/// Whether the server may send to `ip`: only addresses of the public internet. A subscription
/// names any URL its client likes; without this check, the server would POST into the
/// operator's own network on the client's behalf (loopback, private ranges, cloud metadata at
/// 169.254.169.254). `Ipv4Addr::is_global` is unstable, hence the list.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                // Unique local fc00::/7, link-local fe80::/10.
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                // Site-local fec0::/10 (deprecated), discard 100::/64.
                || (s[0] & 0xffc0) == 0xfec0
                || s[..4] == [0x0100, 0, 0, 0]
                // Documentation 2001:db8::/32; Teredo 2001::/32, 6to4 2002::/16 and NAT64
                // 64:ff9b::/96 reach IPv4 addresses that could be private; IPv4-compatible
                // ::/96 and SIIT ::ffff:0:0/96.
                || (s[0] == 0x2001 && (s[1] == 0x0db8 || s[1] == 0))
                || s[0] == 0x2002
                || (s[0] == 0x0064 && s[1] == 0xff9b)
                || s[..6] == [0; 6]
                || s[..6] == [0, 0, 0, 0, 0xffff, 0])
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        // Shared address space (carrier-grade NAT) 100.64.0.0/10.
        || (a == 100 && (b & 0xc0) == 64)
        // IETF protocol assignments 192.0.0.0/24, benchmarking 198.18.0.0/15.
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b & 0xfe) == 18)
        // Reserved 240.0.0.0/4.
        || a >= 240)
}

/// Whether a host name (not an IP literal) may be a push service: not a name for this machine
/// or a local network.
pub fn is_public_host_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let local = host == "localhost"
        || [".localhost", ".local", ".internal", ".lan", ".home.arpa"]
            .iter()
            .any(|s| host.ends_with(s));
    // A public name has a dot (a bare name resolves in the local search domain).
    !local && host.contains('.')
}

/// How long a push service keeps a push for an offline device (Web Push `TTL`, seconds): until
/// the ladder's webhook takes over (the platform's e-mail or SMS then tells the recipient), at
/// least a minute.
pub fn ttl_secs(steps: Steps) -> u64 {
    let until_webhook = steps.webhook.saturating_sub(steps.push).max(0);
    u64::try_from(until_webhook / 1000).unwrap_or(0).max(60)
}

/// Web Push `Urgency` (RFC 8030 §5.3) for a ladder's urgency: `high` may wake a sleeping
/// phone. Never `low`: a push service may hold that until the device is on power and Wi-Fi,
/// past the webhook that follows.
pub fn urgency_header(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::High => "high",
        Urgency::Normal | Urgency::Low => "normal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_public_addresses_are_sent_to() {
        for public in [
            "8.8.8.8",
            "142.250.74.110",
            "100.63.255.255",
            "100.128.0.0",
            "2a00:1450:4001:82f::200a",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public_ip(ip(public)), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "203.0.113.5",
            "::",
            "::1",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "64:ff9b::a00:1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::10.0.0.1",
            "2002:a00:1::1",
            "2001:0:4136:e378::1",
            "fec0::1",
            "100::1",
            "::ffff:0:a00:1",
        ] {
            assert!(!is_public_ip(ip(private)), "{private}");
        }
    }

    #[test]
    fn local_host_names_are_not_push_services() {
        assert!(is_public_host_name("fcm.googleapis.com"));
        assert!(is_public_host_name("updates.push.services.mozilla.com."));
        for local in [
            "localhost",
            "LOCALHOST",
            "api.localhost",
            "printer.local",
            "metadata.google.internal",
            "nas.lan",
            "router.home.arpa",
            "intranet",
        ] {
            assert!(!is_public_host_name(local), "{local}");
        }
    }

    #[test]
    fn a_push_lives_until_the_webhook_takes_over() {
        let s = |push, webhook| Steps { push, webhook };
        assert_eq!(ttl_secs(s(10_000, 120_000)), 110);
        assert_eq!(ttl_secs(s(300_000, 3_600_000)), 3_300);
        assert_eq!(ttl_secs(s(1_000, 2_000)), 60, "at least a minute");
        assert_eq!(ttl_secs(s(5_000, 1_000)), 60, "a webhook before the push");
        assert_eq!(urgency_header(Urgency::High), "high");
        assert_eq!(urgency_header(Urgency::Normal), "normal");
        assert_eq!(urgency_header(Urgency::Low), "normal");
    }
}
