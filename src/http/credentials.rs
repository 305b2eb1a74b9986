//! The credentials a request carries, parsed (pure, tested natively): the `Authorization`
//! header (`Bearer <token>`; the scheme is case-insensitive, as RFC 9110 says of auth schemes)
//! or `X-API-Key: <token>` (both at once must carry the same token),
//! the session cookie, and the cross-site check every state-changing session request passes.

use crate::core::members::SESSION_COOKIE;

#[derive(Debug, PartialEq, Eq)]
pub enum BearerError {
    Missing,
    Malformed,
    /// `Authorization: Bearer` and `X-API-Key` name different tokens: which one acts would be
    /// a guess.
    Ambiguous,
}

pub fn bearer_token(header: Option<&str>) -> Result<&str, BearerError> {
    let h = header.ok_or(BearerError::Missing)?;
    let (scheme, token) = h.trim().split_once(' ').ok_or(BearerError::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(BearerError::Malformed);
    }
    Ok(token)
}

/// The token of a request that may send it as `Authorization: Bearer <token>` or as
/// `X-API-Key: <token>`. Both at once are fine when they carry the same token (compared in
/// constant time), a `400` otherwise.
pub fn key_token<'a>(
    authorization: Option<&'a str>,
    api_key: Option<&'a str>,
) -> Result<&'a str, BearerError> {
    let api_key = match api_key.map(str::trim) {
        Some("") => return Err(BearerError::Malformed),
        Some(k) if k.contains(' ') => return Err(BearerError::Malformed),
        other => other,
    };
    match (authorization, api_key) {
        (None, None) => Err(BearerError::Missing),
        (None, Some(k)) => Ok(k),
        (Some(a), None) => bearer_token(Some(a)),
        (Some(a), Some(k)) => {
            let b = bearer_token(Some(a))?;
            if crate::core::key::secrets_equal(b, k) {
                Ok(b)
            } else {
                Err(BearerError::Ambiguous)
            }
        }
    }
}

/// The session cookie's value in a `Cookie` header, if it is there.
pub fn session_cookie(header: Option<&str>) -> Option<&str> {
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for a new session: `__Host-` (Secure, Path=/, no Domain), HttpOnly, SameSite=Strict,
/// and a lifetime of the session's absolute timeout.
pub fn session_set_cookie(token: &str) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        crate::core::members::SESSION_ABSOLUTE_MS / 1000
    )
}

/// `Set-Cookie` that clears the session cookie.
pub fn session_clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// May a request authenticated by a session cookie do this? Reads (`GET`, `HEAD`) always; a
/// change only from the dashboard's own origin: a cross-site `Sec-Fetch-Site` or an `Origin`
/// other than the service's own is refused (`403 csrf_rejected`). The cookie is already
/// `SameSite=Strict`; this is the second, independent guard.
pub fn same_origin_or_safe(
    method: &str,
    own_origin: &str,
    origin: Option<&str>,
    fetch_site: Option<&str>,
) -> bool {
    if matches!(method, "GET" | "HEAD") {
        return true;
    }
    if fetch_site.is_some_and(|s| s.eq_ignore_ascii_case("cross-site")) {
        return false;
    }
    origin.is_none_or(|o| o.eq_ignore_ascii_case(own_origin))
}

/// `scheme://host[:port]` of a request URL.
pub fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let h = "theme=dark; __Host-keygate_session=kgs_team_x_abc ; other=1";
        assert_eq!(session_cookie(Some(h)), Some("kgs_team_x_abc"));
        assert_eq!(session_cookie(Some("keygate_session=x")), None);
        assert_eq!(session_cookie(Some("__Host-keygate_session=")), None);
        assert_eq!(session_cookie(None), None);
    }

    #[test]
    fn the_cookie_has_the_contracts_attributes() {
        let c = session_set_cookie("tok");
        for part in [
            "__Host-keygate_session=tok",
            "Secure",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/",
        ] {
            assert!(c.split("; ").any(|p| p == part), "{part} in {c}");
        }
        assert!(!c.contains("Domain"));
        assert!(session_clear_cookie().contains("Max-Age=0"));
    }

    #[test]
    fn changes_by_session_come_only_from_the_own_origin() {
        let own = "https://keys.example.com";
        assert!(same_origin_or_safe(
            "GET",
            own,
            Some("https://evil.test"),
            Some("cross-site")
        ));
        assert!(same_origin_or_safe(
            "POST",
            own,
            Some(own),
            Some("same-origin")
        ));
        assert!(same_origin_or_safe("DELETE", own, None, None));
        assert!(!same_origin_or_safe(
            "POST",
            own,
            Some("https://evil.test"),
            None
        ));
        assert!(!same_origin_or_safe("PATCH", own, None, Some("cross-site")));
        assert!(!same_origin_or_safe("POST", own, Some("null"), None));
        assert!(!same_origin_or_safe(
            "POST",
            own,
            Some("https://sub.keys.example.com"),
            Some("same-site")
        ));
    }

    #[test]
    fn the_origin_of_a_url() {
        assert_eq!(
            origin_of("http://127.0.0.1:8787/v1/me?x=1"),
            "http://127.0.0.1:8787"
        );
        assert_eq!(
            origin_of("https://keys.example.com"),
            "https://keys.example.com"
        );
    }

    #[test]
    fn the_key_comes_from_either_header_and_both_must_agree() {
        assert_eq!(key_token(None, Some("abc")), Ok("abc"));
        assert_eq!(key_token(None, Some(" abc ")), Ok("abc"));
        assert_eq!(key_token(Some("Bearer abc"), None), Ok("abc"));
        assert_eq!(key_token(Some("Bearer abc"), Some("abc")), Ok("abc"));
        assert_eq!(
            key_token(Some("Bearer abc"), Some("abd")),
            Err(BearerError::Ambiguous)
        );
        assert_eq!(key_token(None, None), Err(BearerError::Missing));
        assert_eq!(key_token(None, Some(" ")), Err(BearerError::Malformed));
        assert_eq!(key_token(None, Some("a b")), Err(BearerError::Malformed));
        assert_eq!(
            key_token(Some("Basic abc"), Some("abc")),
            Err(BearerError::Malformed)
        );
    }

    #[test]
    fn parses_bearer() {
        assert_eq!(bearer_token(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Ok("abc"));
        assert_eq!(bearer_token(None), Err(BearerError::Missing));
        for bad in [
            "abc",
            "Basic abc",
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Token abc",
        ] {
            assert_eq!(
                bearer_token(Some(bad)),
                Err(BearerError::Malformed),
                "{bad}"
            );
        }
    }
}
