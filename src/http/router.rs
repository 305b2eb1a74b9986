//! The route table, written once: the [`Route`] enum the worker dispatches on (a route without
//! a handler does not compile), the method and path of each, and [`ROUTES`], which the OpenAPI
//! document must describe exactly (a test holds them to each other).

macro_rules! routes {
    ($($route:ident = $method:literal $path:literal;)*) => {
        /// Every endpoint the service answers.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Route {
            $($route),*
        }

        impl Route {
            pub const ALL: &'static [Route] = &[$(Route::$route),*];

            pub fn method(self) -> &'static str {
                match self {
                    $(Route::$route => $method),*
                }
            }

            /// The path, with `{id}` for the one variable segment.
            pub fn pattern(self) -> &'static str {
                match self {
                    $(Route::$route => $path),*
                }
            }
        }

        /// Every route as `(METHOD, /path/{param})`.
        pub const ROUTES: &[(&str, &str)] = &[$(($method, $path)),*];
    };
}

routes! {
    Healthz = "GET" "/healthz";
    OpenApi = "GET" "/openapi.json";
    CreateTeam = "POST" "/v1/teams";
    GetTeam = "GET" "/v1/teams/{id}";
    UpdateTeam = "PATCH" "/v1/teams/{id}";
    ListKeys = "GET" "/v1/api-keys";
    CreateKey = "POST" "/v1/api-keys";
    CurrentKey = "GET" "/v1/api-keys/current";
    GetKey = "GET" "/v1/api-keys/{id}";
    UpdateKey = "PATCH" "/v1/api-keys/{id}";
    DeleteKey = "DELETE" "/v1/api-keys/{id}";
    DisableKey = "POST" "/v1/api-keys/{id}/disable";
    RollKey = "POST" "/v1/api-keys/{id}/roll";
    KeyUsage = "GET" "/v1/api-keys/{id}/usage";
    Verify = "POST" "/v1/verify";
    RateLimit = "GET" "/v1/rate-limit";
    ListProjects = "GET" "/v1/projects";
    CreateProject = "POST" "/v1/projects";
    GetProject = "GET" "/v1/projects/{id}";
    DeleteProject = "DELETE" "/v1/projects/{id}";
    ListRoles = "GET" "/v1/roles";
    CreateRole = "POST" "/v1/roles";
    GetRole = "GET" "/v1/roles/{id}";
    UpdateRole = "PATCH" "/v1/roles/{id}";
    DeleteRole = "DELETE" "/v1/roles/{id}";
    ListAccounts = "GET" "/v1/service-accounts";
    CreateAccount = "POST" "/v1/service-accounts";
    GetAccount = "GET" "/v1/service-accounts/{id}";
    UpdateAccount = "PATCH" "/v1/service-accounts/{id}";
    DeleteAccount = "DELETE" "/v1/service-accounts/{id}";
    SignIn = "POST" "/v1/session";
    SignOut = "DELETE" "/v1/session";
    Me = "GET" "/v1/me";
    ChangePassword = "POST" "/v1/me/password";
    EnrolTotp = "POST" "/v1/me/totp";
    ConfirmTotp = "POST" "/v1/me/totp/confirm";
    DisableTotp = "POST" "/v1/me/totp/disable";
    ListMembers = "GET" "/v1/members";
    UpdateMember = "PATCH" "/v1/members/{id}";
    RemoveMember = "DELETE" "/v1/members/{id}";
    ListInvitations = "GET" "/v1/invitations";
    CreateInvitation = "POST" "/v1/invitations";
    AcceptInvitation = "POST" "/v1/invitations/accept";
    WithdrawInvitation = "DELETE" "/v1/invitations/{id}";
    Monitoring = "GET" "/v1/monitoring";
    AuditLog = "GET" "/v1/audit-log";
    ListWebhooks = "GET" "/v1/webhooks";
    CreateWebhook = "POST" "/v1/webhooks";
    GetWebhook = "GET" "/v1/webhooks/{id}";
    UpdateWebhook = "PATCH" "/v1/webhooks/{id}";
    DeleteWebhook = "DELETE" "/v1/webhooks/{id}";
    RotateWebhookSecret = "POST" "/v1/webhooks/{id}/rotate-secret";
    TestWebhook = "POST" "/v1/webhooks/{id}/test";
    ListDeliveries = "GET" "/v1/webhooks/{id}/deliveries";
    RetryDelivery = "POST" "/v1/webhooks/{id}/deliveries/{event_id}/retry";
    ReportLeaks = "POST" "/v1/leaks";
    GithubLeaks = "POST" "/v1/leaks/github";
    OpenPortal = "POST" "/v1/portal/sessions";
    ArrivePortal = "GET" "/v1/portal/{id}";
    MySessions = "GET" "/v1/me/sessions";
    EndMySession = "DELETE" "/v1/me/sessions/{id}";
}

/// A matched route, its `{id}` segment and its second variable segment (`{event_id}`), if any.
#[derive(Debug, PartialEq, Eq)]
pub struct Matched<'a> {
    pub route: Route,
    pub id: Option<&'a str>,
    pub sub: Option<&'a str>,
}

type Params<'a> = (Option<&'a str>, Option<&'a str>);

#[derive(Debug, PartialEq, Eq)]
pub enum RouteError {
    NotFound,
    /// The path exists with other methods (listed for the `Allow` header).
    MethodNotAllowed(Vec<&'static str>),
}

fn match_pattern<'a>(pattern: &str, path: &'a str) -> Option<Params<'a>> {
    let (mut id, mut sub) = (None, None);
    let mut p = pattern.split('/');
    let mut s = path.split('/');
    loop {
        match (p.next(), s.next()) {
            (None, None) => return Some((id, sub)),
            (Some("{id}"), Some(seg)) if !seg.is_empty() => id = Some(seg),
            (Some(v), Some(seg)) if v.starts_with('{') && !seg.is_empty() => sub = Some(seg),
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
    let matches: Vec<(Route, Params<'a>)> = Route::ALL
        .iter()
        .filter_map(|&r| match_pattern(r.pattern(), path).map(|id| (r, id)))
        .collect();
    // The most literal matches win: those without `{id}` if there are any.
    let literal = matches.iter().any(|(_, (id, _))| id.is_none());
    let mut allowed = Vec::new();
    for &(route, (id, sub)) in matches
        .iter()
        .filter(|(_, (id, _))| id.is_none() == literal)
    {
        let m = route.method();
        if m == method {
            return Ok(Matched { route, id, sub });
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
        assert_eq!((m.route, m.id), (Route::CurrentKey, None));
        let m = route("GET", "/v1/api-keys/key_abc").unwrap();
        assert_eq!((m.route, m.id), (Route::GetKey, Some("key_abc")));
        let m = route("POST", "/v1/api-keys/key_abc/disable").unwrap();
        assert_eq!(m.route, Route::DisableKey);
        let m = route("POST", "/v1/webhooks/wh_1/deliveries/evt_2/retry").unwrap();
        assert_eq!(
            (m.route, m.id, m.sub),
            (Route::RetryDelivery, Some("wh_1"), Some("evt_2"))
        );
    }

    #[test]
    fn portal_routes_do_not_shadow_each_other() {
        let m = route("GET", "/v1/portal/kgp_team_x_y").unwrap();
        assert_eq!((m.route, m.id), (Route::ArrivePortal, Some("kgp_team_x_y")));
        assert_eq!(
            route("POST", "/v1/portal/sessions").unwrap().route,
            Route::OpenPortal
        );
        assert_eq!(
            route("GET", "/v1/portal/sessions"),
            Err(RouteError::MethodNotAllowed(vec!["POST"]))
        );
        assert_eq!(
            route("GET", "/v1/me/sessions").unwrap().route,
            Route::MySessions
        );
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
        assert_eq!(head.route, Route::GetKey);
        assert!(
            route("GET", "/v1/api-keys/").is_ok(),
            "a trailing slash is forgiven"
        );
        assert_eq!(route("GET", "/v1/api-keys//"), Err(RouteError::NotFound));
    }

    #[test]
    fn every_route_is_reachable() {
        for &r in Route::ALL {
            let path = r
                .pattern()
                .replace("{id}", "x_1")
                .replace("{event_id}", "evt_1");
            assert_eq!(route(r.method(), &path).unwrap().route, r);
        }
        assert_eq!(ROUTES.len(), Route::ALL.len());
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
