//! A team's branding, shown by the dashboard (and in "Back to <name>" after a portal link):
//! a display name, a logo (an `https:` image, so the dashboard's CSP needs no more than
//! `img-src 'self' https:`) and an accent colour (`#rrggbb`). Parsed here once; the stored
//! value is always valid.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest logo URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// Longest branding name accepted, in characters.
pub const MAX_BRAND_NAME_CHARS: usize = 100;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<String>,
}

/// An absolute `https://` URL with a host, no credentials, no spaces or control characters,
/// at most [`MAX_URL_LEN`] bytes. `http_hosts` are the hosts also allowed over `http://`
/// (development: `localhost`, `127.0.0.1`).
pub fn web_url(s: &str, http_hosts: &[&str]) -> Option<String> {
    if s.len() > MAX_URL_LEN || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (scheme, rest) = s.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // No IPv6 literals: a host name or a dotted IPv4 address, and maybe a port.
    let host = match authority.split_once(':') {
        Some((h, port)) => {
            let port_ok =
                !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
            if !port_ok {
                return None;
            }
            h
        }
        None => authority,
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    let scheme_ok = match scheme {
        "https" => true,
        "http" => http_hosts.contains(&host.to_ascii_lowercase().as_str()),
        _ => false,
    };
    (host_ok && scheme_ok).then(|| s.to_owned())
}

/// `#rrggbb`, stored lowercase.
pub fn color(s: &str) -> Option<String> {
    let hex = s.strip_prefix('#')?;
    (hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

impl Branding {
    /// `branding` of `PATCH /v1/teams/{id}`: an object that replaces the team's branding whole
    /// (a field left out or `null` is cleared; `{}` clears it all). The error names the field.
    pub fn parse(v: &Value) -> Result<Self, (&'static str, &'static str)> {
        let Value::Object(o) = v else {
            return Err((
                "branding",
                "must be an object {name?, logo_url?, accent_color?}",
            ));
        };
        let known = ["name", "logo_url", "accent_color"];
        if o.keys().any(|k| !known.contains(&k.as_str())) {
            return Err((
                "branding",
                "has a field other than name, logo_url, accent_color",
            ));
        }
        let text = |f: &'static str| -> Result<Option<&str>, (&'static str, &'static str)> {
            match o.get(f) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err((f, "must be a string")),
            }
        };
        let name = match text("name")? {
            None => None,
            Some(n) => {
                let n = n.trim();
                let chars = n.chars().count();
                if chars == 0 || chars > MAX_BRAND_NAME_CHARS || n.chars().any(char::is_control) {
                    return Err((
                        "branding.name",
                        "must be 1 to 100 characters, no control characters",
                    ));
                }
                Some(n.to_owned())
            }
        };
        let logo_url = match text("logo_url")? {
            None => None,
            Some(u) => Some(web_url(u, &[]).ok_or((
                "branding.logo_url",
                "must be an https:// URL (at most 2048 characters)",
            ))?),
        };
        let accent_color = match text("accent_color")? {
            None => None,
            Some(c) => Some(color(c).ok_or(("branding.accent_color", "must be #rrggbb"))?),
        };
        Ok(Branding {
            name,
            logo_url,
            accent_color,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_are_https_or_named_dev_hosts() {
        assert!(web_url("https://cdn.acme.test/logo.png", &[]).is_some());
        assert!(web_url("https://acme.test:8443/x?y#z", &[]).is_some());
        for bad in [
            "http://acme.test/logo.png",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "https://",
            "https:///x",
            "https://user:pw@acme.test/",
            "https://acme.test/a b",
            "https://acme.test:99999999/",
            "https://acme.test:/",
            "//acme.test/x",
            "ftp://acme.test/x",
        ] {
            assert_eq!(web_url(bad, &[]), None, "{bad}");
        }
        let dev = ["localhost", "127.0.0.1"];
        assert!(web_url("http://localhost:3000/back", &dev).is_some());
        assert!(web_url("http://127.0.0.1/back", &dev).is_some());
        assert!(web_url("http://localhost.evil.test/", &dev).is_none());
        assert!(web_url("http://localhost@evil.test/", &dev).is_none());
        assert!(web_url("http://localhost:3000/back", &[]).is_none());
        assert!(web_url(&format!("https://a.test/{}", "x".repeat(MAX_URL_LEN)), &[]).is_none());
    }

    #[test]
    fn branding_is_checked_field_by_field() {
        let b = Branding::parse(&json!({"name": " Acme ", "logo_url": "https://acme.test/l.svg", "accent_color": "#AABBCC"})).unwrap();
        assert_eq!(b.name.as_deref(), Some("Acme"));
        assert_eq!(b.accent_color.as_deref(), Some("#aabbcc"));
        assert_eq!(Branding::parse(&json!({})).unwrap(), Branding::default());
        assert_eq!(
            Branding::parse(&json!({"name": null})).unwrap(),
            Branding::default()
        );
        let field = |v| Branding::parse(&v).unwrap_err().0;
        assert_eq!(
            field(json!({"logo_url": "http://acme.test/l.png"})),
            "branding.logo_url"
        );
        assert_eq!(
            field(json!({"accent_color": "red"})),
            "branding.accent_color"
        );
        assert_eq!(
            field(json!({"accent_color": "#abcd"})),
            "branding.accent_color"
        );
        assert_eq!(field(json!({"name": ""})), "branding.name");
        assert_eq!(field(json!({"name": 3})), "name");
        assert_eq!(field(json!({"colour": "#000000"})), "branding");
        assert_eq!(field(json!("Acme")), "branding");
        assert!(serde_json::to_string(&Branding::default()).unwrap() == "{}");
    }
}
