//! The methods the server's routes accept on a path, for 405 responses.
//!
//! Rocket 0.5 responds with 404 to a request whose path matches a route but whose
//! method does not. Laravel, whose API this one follows, responds with 405 and an `Allow`
//! header, so the 404 catcher calls [`allowed_methods`] to find whether another method
//! matches.

use rocket::http::Method;
use rocket::{Orbit, Rocket};

/// Returns the methods of the routes whose path template matches `path`, in the order
/// of [`METHOD_ORDER`], with HEAD wherever GET is, because Rocket serves HEAD requests
/// with GET routes. Returns an empty list when no route has this path.
pub fn allowed_methods(rocket: &Rocket<Orbit>, path: &str) -> Vec<Method> {
    let request: Vec<&str> = segments(path).collect();
    let mut methods: Vec<Method> = rocket
        .routes()
        .filter(|route| template_matches(route.uri.path(), &request))
        .map(|route| route.method)
        .collect();
    if methods.contains(&Method::Get) {
        methods.push(Method::Head);
    }
    methods.sort_by_key(|method| METHOD_ORDER.iter().position(|known| known == method));
    methods.dedup();
    methods
}

/// The order in which an `Allow` header lists methods.
const METHOD_ORDER: [Method; 9] = [
    Method::Get,
    Method::Head,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
    Method::Options,
    Method::Connect,
    Method::Trace,
];

/// Splits a path into its segments, ignoring empty ones, so that a trailing slash
/// changes nothing.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|segment| !segment.is_empty())
}

/// Checks whether a route's path template, such as `/api/<id>/retry`, matches the
/// request path's segments. `<name>` matches one segment and `<name..>` the rest.
fn template_matches(template: &str, request: &[&str]) -> bool {
    let mut request = request.iter();
    for segment in segments(template) {
        if segment.starts_with('<') && segment.ends_with("..>") {
            return true;
        }
        let Some(actual) = request.next() else { return false };
        let dynamic = segment.starts_with('<') && segment.ends_with('>');
        if !dynamic && segment != *actual {
            return false;
        }
    }
    request.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(template: &str, path: &str) -> bool {
        template_matches(template, &segments(path).collect::<Vec<_>>())
    }

    #[test]
    fn static_and_dynamic_segments_match() {
        assert!(matches("/api/v1/ingest/upload/<slug>", "/api/v1/ingest/upload/airport-importer"));
        assert!(matches("/api/v1/ingest/<id>/retry", "/api/v1/ingest/7/retry"));
        assert!(matches("/api/v1/ingest", "/api/v1/ingest/"));
        assert!(matches("/files/<path..>", "/files/a/b/c"));
        assert!(matches("/", "/"));
    }

    #[test]
    fn other_paths_do_not_match() {
        assert!(!matches("/api/v1/ingest/<id>/retry", "/api/v1/ingest/7"));
        assert!(!matches("/api/v1/ingest/<id>", "/api/v1/ingest/7/retry"));
        assert!(!matches("/api/v1/ingest/importers", "/api/v1/ingest/exporters"));
        assert!(!matches("/health", "/"));
    }
}
