//! Which `Host` names a browser request may use (the DNS-rebinding rule).

/// The names a browser request's `Host` may have (SPEC, the `Host` rule; Django's
/// `ALLOWED_HOSTS`). A page of `evil.example` whose name its owner rebinds to
/// 127.0.0.1 (DNS rebinding) reads our pages as its own origin: the browser sends
/// `Host: evil.example`, and its `Origin` matches that `Host`, so the CSRF check
/// passes. The `Host` gives it away. Requests without `Origin` (curl, nc: no page
/// behind them) may name any `Host`.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowedHosts {
    /// Lowercase names without port: `localhost`, `127.0.0.1`, `[::1]`, the listen
    /// address, `--allowed-host` values (`.name` for it and its subdomains).
    names: Vec<String>,
    /// `--allowed-host '*'`.
    any: bool,
}

/// Always allowed (the loopback names, as `runserver` allows them with `DEBUG`).
pub(crate) const LOCAL_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

impl AllowedHosts {
    /// The loopback names, `listen` (the listen address's host, e.g. from `--addr`)
    /// and `extra` (`--allowed-host`).
    pub(crate) fn new<'a>(
        listen: impl IntoIterator<Item = &'a str>,
        extra: impl IntoIterator<Item = &'a str>,
    ) -> AllowedHosts {
        let mut hosts = AllowedHosts::default();
        for name in LOCAL_HOSTS.into_iter().chain(listen).chain(extra) {
            let name = name.trim().to_ascii_lowercase();
            if name == "*" {
                hosts.any = true;
            } else if !hosts.names.contains(&name) {
                hosts.names.push(name);
            }
        }
        hosts
    }

    /// Whether a `Host` field value names an allowed host: port stripped
    /// (`[::1]:8000` → `[::1]`), case ignored, a final dot ignored (`localhost.`).
    pub(crate) fn allows(&self, host: &[u8]) -> bool {
        if self.any {
            return true;
        }
        let name = host_name(host);
        let name = name.strip_suffix(b".").unwrap_or(name);
        self.names.iter().any(|allowed| {
            let allowed = allowed.as_bytes();
            match allowed.strip_prefix(b".") {
                // `.example.com`: example.com itself and any name ending in it.
                Some(domain) => {
                    name.eq_ignore_ascii_case(domain)
                        || (name.len() > allowed.len()
                            && name[name.len() - allowed.len()..].eq_ignore_ascii_case(allowed))
                }
                None => name.eq_ignore_ascii_case(allowed),
            }
        })
    }
}

/// The host part of a `Host` value (RFC 9110 §7.2: `uri-host [ ":" port ]`, where an
/// IPv6 address is in brackets, so the port is after `]`).
pub(crate) fn host_name(host: &[u8]) -> &[u8] {
    if host.first() == Some(&b'[') {
        return match host.iter().position(|&b| b == b']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.iter().rposition(|&b| b == b':') {
        Some(colon) => &host[..colon],
        None => host,
    }
}
