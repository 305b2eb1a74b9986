//! The `Authorization` header, parsed: `Bearer <token>` (the scheme is case-insensitive, as
//! RFC 9110 says of auth schemes).

#[derive(Debug, PartialEq, Eq)]
pub enum BearerError {
    Missing,
    Malformed,
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

#[cfg(test)]
mod tests {
    use super::*;

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
