//! The route table: one list of (method, path pattern) that the router serves and that the
//! OpenAPI document must describe (a test holds them to each other).

/// Every route the service answers, as `METHOD /path/{param}`.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/openapi.json"),
    ("POST", "/v1/teams"),
    ("GET", "/v1/teams/{id}"),
    ("PATCH", "/v1/teams/{id}"),
    ("GET", "/v1/api-keys"),
    ("POST", "/v1/api-keys"),
    ("GET", "/v1/api-keys/current"),
    ("GET", "/v1/api-keys/{id}"),
    ("PATCH", "/v1/api-keys/{id}"),
    ("DELETE", "/v1/api-keys/{id}"),
    ("POST", "/v1/api-keys/{id}/disable"),
    ("POST", "/v1/verify"),
    ("GET", "/v1/rate-limit"),
    ("GET", "/v1/projects"),
    ("POST", "/v1/projects"),
    ("GET", "/v1/projects/{id}"),
    ("DELETE", "/v1/projects/{id}"),
    ("GET", "/v1/roles"),
    ("POST", "/v1/roles"),
    ("GET", "/v1/roles/{id}"),
    ("PATCH", "/v1/roles/{id}"),
    ("DELETE", "/v1/roles/{id}"),
    ("GET", "/v1/service-accounts"),
    ("POST", "/v1/service-accounts"),
    ("GET", "/v1/service-accounts/{id}"),
    ("PATCH", "/v1/service-accounts/{id}"),
    ("DELETE", "/v1/service-accounts/{id}"),
];

/// A matched route: its index in [`ROUTES`] and the `{id}` segment, if any.
#[derive(Debug, PartialEq, Eq)]
pub struct Matched<'a> {
    pub method: &'static str,
    pub pattern: &'static str,
    pub id: Option<&'a str>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RouteError {
    NotFound,
    /// The path exists with other methods (listed for the `Allow` header).
    MethodNotAllowed(Vec<&'static str>),
}

fn match_pattern<'a>(pattern: &str, path: &'a str) -> Option<Option<&'a str>> {
    let mut id = None;
    let mut p = pattern.split('/');
    let mut s = path.split('/');
    loop {
        match (p.next(), s.next()) {
            (None, None) => return Some(id),
            (Some("{id}"), Some(seg)) if !seg.is_empty() => id = Some(seg),
            (Some(a), Some(b)) if a == b => {}
            _ => return None,
        }
    }
}

/// Finds the route for a request. A path that a route with literal segments matches belongs to
/// that route alone (`/v1/api-keys/current` is never a `{id}`), so its methods are only the
/// literal route's. `HEAD` is served wherever `GET` is (the runtime drops the body); any other
/// method the path does not define is `MethodNotAllowed` with the methods it does define
/// (`HEAD` beside `GET`), for the `Allow` header.
pub fn route<'a>(method: &str, path: &'a str) -> Result<Matched<'a>, RouteError> {
    let method = if method == "HEAD" { "GET" } else { method };
    // One trailing slash is forgiven (`/v1/api-keys/`); an empty segment anywhere else is not.
    let path = if path.len() > 1 {
        path.strip_suffix('/').unwrap_or(path)
    } else {
        path
    };
    let matches: Vec<(&'static str, &'static str, Option<&'a str>)> = ROUTES
        .iter()
        .filter_map(|&(m, pattern)| match_pattern(pattern, path).map(|id| (m, pattern, id)))
        .collect();
    // The most literal matches win: those without `{id}` if there are any.
    let literal = matches.iter().any(|(_, _, id)| id.is_none());
    let mut allowed = Vec::new();
    for &(m, pattern, id) in matches.iter().filter(|(_, _, id)| id.is_none() == literal) {
        if m == method {
            return Ok(Matched {
                method: m,
                pattern,
                id,
            });
        }
        if !allowed.contains(&m) {
            allowed.push(m);
            if m == "GET" {
                allowed.push("HEAD");
            }
        }
    }
    if allowed.is_empty() {
        Err(RouteError::NotFound)
    } else {
        Err(RouteError::MethodNotAllowed(allowed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_beats_param() {
        let m = route("GET", "/v1/api-keys/current").unwrap();
        assert_eq!((m.pattern, m.id), ("/v1/api-keys/current", None));
        let m = route("GET", "/v1/api-keys/key_abc").unwrap();
        assert_eq!((m.pattern, m.id), ("/v1/api-keys/{id}", Some("key_abc")));
        let m = route("POST", "/v1/api-keys/key_abc/disable").unwrap();
        assert_eq!(m.pattern, "/v1/api-keys/{id}/disable");
    }

    #[test]
    fn unknown_paths_and_methods() {
        assert_eq!(route("GET", "/nope"), Err(RouteError::NotFound));
        assert_eq!(route("GET", "/v1/api-keys/a/b"), Err(RouteError::NotFound));
        assert_eq!(
            route("PUT", "/v1/api-keys"),
            Err(RouteError::MethodNotAllowed(vec!["GET", "HEAD", "POST"]))
        );
        assert_eq!(
            route("GET", "/v1/verify"),
            Err(RouteError::MethodNotAllowed(vec!["POST"]))
        );
        // Methods no route uses are refused like any other, never served as GET.
        assert_eq!(
            route("QUERY", "/v1/api-keys/current"),
            Err(RouteError::MethodNotAllowed(vec!["GET", "HEAD"]))
        );
        assert_eq!(
            route("OPTIONS", "/healthz"),
            Err(RouteError::MethodNotAllowed(vec!["GET", "HEAD"]))
        );
        let head = route("HEAD", "/v1/api-keys/key_abc").unwrap();
        assert_eq!((head.method, head.pattern), ("GET", "/v1/api-keys/{id}"));
        assert!(
            route("GET", "/v1/api-keys/").is_ok(),
            "a trailing slash is forgiven"
        );
        assert_eq!(route("GET", "/v1/api-keys//"), Err(RouteError::NotFound));
    }

    #[test]
    fn every_route_is_reachable() {
        for &(m, p) in ROUTES {
            let path = p.replace("{id}", "x_1");
            let got = route(m, &path).unwrap();
            assert_eq!((got.method, got.pattern), (m, p));
        }
    }

    /// The OpenAPI document describes exactly the routes served, with the same methods.
    #[test]
    fn openapi_document_matches_the_router() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/openapi.json")).expect("valid JSON");
        assert_eq!(doc["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
        let paths = doc["paths"].as_object().expect("paths");
        for &(m, p) in ROUTES {
            let op = &paths.get(p).unwrap_or_else(|| panic!("{p} missing"))[m.to_lowercase()];
            assert!(op.is_object(), "{m} {p} missing from docs/openapi.json");
            assert!(op["responses"].is_object(), "{m} {p} has no responses");
        }
        for (p, item) in paths {
            for m in item
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
            {
                let m = m.to_uppercase();
                assert!(
                    ROUTES.contains(&(m.as_str(), p.as_str())),
                    "docs/openapi.json has {m} {p}, which the router does not serve"
                );
            }
        }
    }
}
