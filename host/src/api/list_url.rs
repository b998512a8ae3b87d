//! The URL of a list request, from which its pagination links are built.
//!
//! Links keep every query parameter the client sent except `page`, as Laravel's
//! paginator does after `appends($request->query())`, so a client that follows `next`
//! keeps its `per_page` and filters.
//!
//! The scheme and host are those the request came with: `http`, because this server
//! speaks plain HTTP, and the `Host` header. Behind a proxy that terminates TLS those
//! are the proxy's view, so with `INGEST_TRUST_PROXY_HEADERS` the links use the first
//! `Forwarded` element's `proto` and `host`, else `X-Forwarded-Proto` and
//! `X-Forwarded-Host`. That setting is off by default, because any client can send
//! these headers. Only a proxy that overwrites them makes them trustworthy.

use rocket::Request;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome};

use super::AppState;

/// The base URL of a list and the query parameters its page links keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListUrl {
    /// Scheme, host and path, without a query: Laravel's `meta.path`.
    base: String,
    /// The request's query parameters other than `page`, still percent-encoded, joined
    /// with `&`; empty when there are none.
    kept_query: String,
}

impl ListUrl {
    /// Builds the list URL from the parts of a request.
    fn new(scheme: &str, host: Option<&str>, path: &str, query: Option<&str>) -> Self {
        let base = match host {
            Some(host) => format!("{scheme}://{host}{path}"),
            None => path.to_owned(),
        };
        let kept_query = query
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some("page"))
            .collect::<Vec<_>>()
            .join("&");
        Self { base, kept_query }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Returns the URL of page `page`, with the kept parameters before `page` as
    /// Laravel orders them.
    pub fn page(&self, page: i64) -> String {
        match self.kept_query.as_str() {
            "" => format!("{}?page={page}", self.base),
            kept => format!("{}?{kept}&page={page}", self.base),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ListUrl {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        let Some(state) = request.rocket().state::<AppState>() else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        let headers = request.headers();
        let forwarded = if state.config.trust_proxy_headers {
            ProxyView::from_headers(
                headers.get_one("Forwarded"),
                headers.get_one("X-Forwarded-Proto"),
                headers.get_one("X-Forwarded-Host"),
            )
        } else {
            ProxyView::default()
        };
        let host = request.host().map(ToString::to_string);
        let scheme = forwarded.proto.as_deref().unwrap_or("http");
        let host = forwarded.host.or(host);
        let query = request.uri().query().map(|query| query.as_str());
        Outcome::Success(ListUrl::new(scheme, host.as_deref(), &state.config.api_prefix, query))
    }
}

/// The scheme and host a proxy reports for the client's request.
#[derive(Debug, Default, PartialEq, Eq)]
struct ProxyView {
    proto: Option<String>,
    host: Option<String>,
}

impl ProxyView {
    /// Reads the first element of `Forwarded` (RFC 7239) or, for what it lacks, the first
    /// value of `X-Forwarded-Proto` and `X-Forwarded-Host`. Values that are not `http`
    /// or `https`, or not a plain host with an optional port, are ignored.
    fn from_headers(forwarded: Option<&str>, proto: Option<&str>, host: Option<&str>) -> Self {
        let mut view = ProxyView::default();
        if let Some(first) = forwarded.and_then(|value| value.split(',').next()) {
            for pair in first.split(';') {
                let Some((key, value)) = pair.split_once('=') else { continue };
                let value = value.trim().trim_matches('"');
                match key.trim().to_ascii_lowercase().as_str() {
                    "proto" => view.proto = checked_proto(value),
                    "host" => view.host = checked_host(value),
                    _ => {}
                }
            }
        }
        if view.proto.is_none() {
            view.proto = first_value(proto).and_then(checked_proto);
        }
        if view.host.is_none() {
            view.host = first_value(host).and_then(checked_host);
        }
        view
    }
}

/// Returns the first of the comma-separated values of a header that a chain of proxies
/// appends to: the value the first proxy saw.
fn first_value(value: Option<&str>) -> Option<&str> {
    value.and_then(|value| value.split(',').next()).map(str::trim)
}

fn checked_proto(value: &str) -> Option<String> {
    let value = value.to_ascii_lowercase();
    matches!(value.as_str(), "http" | "https").then_some(value)
}

/// Accepts a host name, IPv4 address or bracketed IPv6 address, with an optional port:
/// characters that cannot change where the rest of the URL points.
fn checked_host(value: &str) -> Option<String> {
    let allowed = |character: char| character.is_ascii_alphanumeric() || "-.:[]".contains(character);
    (!value.is_empty() && value.chars().all(allowed)).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_other_parameters() {
        let url = ListUrl::new("http", Some("127.0.0.1:8000"), "/api/v1/ingest", Some("per_page=2&page=3&status=failed"));

        assert_eq!(url.base(), "http://127.0.0.1:8000/api/v1/ingest");
        assert_eq!(url.page(4), "http://127.0.0.1:8000/api/v1/ingest?per_page=2&status=failed&page=4");
    }

    #[test]
    fn page_links_without_query() {
        let url = ListUrl::new("https", Some("api.example.com"), "/api/v1/ingest", None);

        assert_eq!(url.page(1), "https://api.example.com/api/v1/ingest?page=1");
    }

    #[test]
    fn every_page_parameter_is_replaced() {
        let url = ListUrl::new("http", Some("h"), "/x", Some("page=2&page=5&pages=1&&per_page=%31"));

        assert_eq!(url.page(1), "http://h/x?pages=1&per_page=%31&page=1");
    }

    #[test]
    fn forwarded_header_wins() {
        let view = ProxyView::from_headers(
            Some("for=192.0.2.60;proto=https;host=\"api.example.com\", for=10.0.0.1;proto=http"),
            Some("http"),
            Some("other.example.com"),
        );

        assert_eq!(view, ProxyView { proto: Some("https".into()), host: Some("api.example.com".into()) });
    }

    #[test]
    fn x_forwarded_headers_fill_gaps() {
        let view = ProxyView::from_headers(Some("for=192.0.2.60"), Some("HTTPS, http"), Some("api.example.com:8443"));

        assert_eq!(view, ProxyView { proto: Some("https".into()), host: Some("api.example.com:8443".into()) });
    }

    #[test]
    fn invalid_proxy_values_are_ignored() {
        let view = ProxyView::from_headers(None, Some("javascript"), Some("evil.example/path?"));

        assert_eq!(view, ProxyView::default());
    }
}
