//! Which push endpoints the server sends to: `https` URLs of public hosts (SPEC §9.2). A
//! subscription's endpoint comes from a client, so the server must not be made to POST into the
//! operator's network. The URL is checked when a subscription is stored and again before each
//! push; the host's addresses are checked when it is resolved (see [`PublicOnly`]), so a name
//! that later resolves to a private address (DNS rebinding) is refused too.

use std::net::{IpAddr, SocketAddr};

use http_client::{
    Url,
    dns::{Addrs, Name, Resolve, Resolving},
};
use omw_domain::push::{MAX_ENDPOINT_BYTES, is_public_host_name, is_public_ip};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    #[error("endpoint: longer than {MAX_ENDPOINT_BYTES} bytes")]
    TooLong,
    #[error("endpoint: not a URL")]
    NotUrl,
    #[error("endpoint: must be an https URL")]
    NotHttps,
    #[error("endpoint: must not carry credentials")]
    Credentials,
    #[error("endpoint: must name a public host")]
    NotPublic,
}

/// The endpoint as a URL, if the server may send to it. `allow_insecure` admits `http` and
/// local hosts (`PUSH_ALLOW_INSECURE_ENDPOINTS`, for tests).
pub fn check(endpoint: &str, allow_insecure: bool) -> Result<Url, EndpointError> {
    if endpoint.len() > MAX_ENDPOINT_BYTES {
        return Err(EndpointError::TooLong);
    }
    let url = Url::parse(endpoint).map_err(|_| EndpointError::NotUrl)?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure => {}
        _ => return Err(EndpointError::NotHttps),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointError::Credentials);
    }
    let public = match url.host() {
        None => return Err(EndpointError::NotUrl),
        Some(url::Host::Domain(name)) => is_public_host_name(name),
        Some(url::Host::Ipv4(ip)) => is_public_ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_public_ip(IpAddr::V6(ip)),
    };
    if !(public || allow_insecure) {
        return Err(EndpointError::NotPublic);
    }
    Ok(url)
}

/// The push client's resolver: the system's, keeping public addresses only (all of them when
/// insecure endpoints are allowed).
pub struct PublicOnly {
    pub allow_insecure: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_insecure = self.allow_insecure;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let kept: Vec<SocketAddr> = found
                .filter(|a| allow_insecure || is_public_ip(a.ip()))
                .collect();
            if kept.is_empty() {
                return Err(format!("{} has no public address", name.as_str()).into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_urls_of_public_hosts_are_endpoints() {
        let ok = "https://fcm.googleapis.com/fcm/send/abc:APA91b";
        assert!(check(ok, false).is_ok());
        assert!(check("https://[2a00:1450:4001::200a]/x", false).is_ok());
        let cases = [
            ("http://fcm.googleapis.com/x", EndpointError::NotHttps),
            ("ftp://fcm.googleapis.com/x", EndpointError::NotHttps),
            ("file:///etc/passwd", EndpointError::NotHttps),
            ("not a url", EndpointError::NotUrl),
            (
                "https://user:pw@push.example.com/x",
                EndpointError::Credentials,
            ),
            ("https://localhost/x", EndpointError::NotPublic),
            ("https://127.0.0.1:8080/x", EndpointError::NotPublic),
            ("https://169.254.169.254/latest", EndpointError::NotPublic),
            ("https://10.0.0.5/x", EndpointError::NotPublic),
            ("https://[::1]/x", EndpointError::NotPublic),
            ("https://[::ffff:192.168.0.1]/x", EndpointError::NotPublic),
            ("https://0x7f000001/x", EndpointError::NotPublic),
            ("https://2130706433/x", EndpointError::NotPublic),
            (
                "https://metadata.google.internal/x",
                EndpointError::NotPublic,
            ),
            ("https://intranet/x", EndpointError::NotPublic),
        ];
        for (url, want) in cases {
            assert_eq!(check(url, false).err(), Some(want), "{url}");
        }
        let long = format!(
            "https://push.example.com/{}",
            "a".repeat(MAX_ENDPOINT_BYTES)
        );
        assert_eq!(check(&long, false).err(), Some(EndpointError::TooLong));
        let edge = format!(
            "https://push.example.com/{}",
            "a".repeat(MAX_ENDPOINT_BYTES - 25)
        );
        assert_eq!(edge.len(), MAX_ENDPOINT_BYTES);
        assert!(check(&edge, false).is_ok());
    }

    #[test]
    fn tests_may_allow_local_http_endpoints() {
        assert!(check("http://127.0.0.1:9/push", true).is_ok());
        assert!(check("ftp://127.0.0.1/x", true).is_err());
    }

    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused() {
        let strict = PublicOnly {
            allow_insecure: false,
        };
        let name: Name = "localhost".parse().unwrap();
        assert!(strict.resolve(name).await.is_err());
        let lenient = PublicOnly {
            allow_insecure: true,
        };
        let name: Name = "localhost".parse().unwrap();
        assert!(lenient.resolve(name).await.is_ok());
    }
}
