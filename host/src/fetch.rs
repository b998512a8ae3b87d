//! Fetching a file over HTTP into the storage directory, for importers whose source is a
//! URL. Runs read the stored copy, as they read an upload.
//!
//! The client is hyper's HTTP/1.1 connection API, one connection per request. The rules,
//! all set by [`FetchSettings`]:
//! - Only `http://` URLs. NOTE: there is no TLS client, so `https://` is rejected with a
//!   message that names that reason. Adding one means a connector such as hyper-rustls.
//! - The host of the URL, and of every redirect target, must be in the allowed list
//!   (compared without case, port not included). An empty list allows no host. The check
//!   is on the name, so an allowed name that DNS resolves to an internal address is still
//!   fetched.
//! - Redirects (301, 302, 303, 307 and 308 with a `Location`) are followed up to a limit.
//! - The whole fetch, with its redirects and the body, has one deadline.
//! - The body may hold at most `max_bytes`. A larger `Content-Length` is rejected before
//!   the body is read, and a body without one is cut off at the limit.
//! - With a proxy, every request goes to the proxy with the URL in absolute form, and
//!   the allowed-host check still applies to the URL's own host.
//!
//! A failed fetch removes what it had written.

use std::path::{Path, PathBuf};
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_LENGTH, HOST, LOCATION, USER_AGENT};
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Settings of URL fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSettings {
    /// Host names (or IP addresses) that URLs may name, lower case.
    pub allowed_hosts: Vec<String>,
    /// An HTTP proxy that every request goes through.
    pub proxy: Option<ProxyAddress>,
    /// The deadline of a whole fetch, redirects and body included.
    pub timeout: Duration,
    pub max_redirects: u32,
    pub max_bytes: u64,
}

impl Default for FetchSettings {
    fn default() -> Self {
        // A minute at 100 Mbit/s moves about 750 MB, more than the default size limit,
        // and a client waiting on `POST /trigger` rarely waits longer.
        Self {
            allowed_hosts: Vec::new(),
            proxy: None,
            timeout: Duration::from_secs(60),
            max_redirects: 5,
            max_bytes: 512 << 20,
        }
    }
}

/// The address of an HTTP proxy, written `http://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyAddress {
    host: String,
    port: u16,
}

impl std::str::FromStr for ProxyAddress {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str = "an http:// URL such as http://127.0.0.1:3128";
        let uri: Uri = text.trim().parse().map_err(|_| EXPECTED)?;
        if uri.scheme_str() != Some("http") {
            return Err(EXPECTED);
        }
        let host = uri.host().ok_or(EXPECTED)?.to_owned();
        Ok(Self { host, port: uri.port_u16().unwrap_or(80) })
    }
}

impl std::fmt::Display for ProxyAddress {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "http://{}:{}", self.host, self.port)
    }
}

/// The result of a fetch that stored a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The URL the body came from, after redirects.
    pub url: String,
    pub bytes: u64,
}

/// Who a failed fetch is down to, which decides the API's status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchFault {
    /// The URL or the file breaks a rule of the settings.
    Rejected,
    /// The remote server failed or returned an error status.
    Upstream,
    /// The deadline passed.
    TimedOut,
    /// Writing the stored copy failed.
    Storage,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the URL {url:?} is invalid: {reason}")]
    InvalidUrl { url: String, reason: &'static str },

    #[error("the URL {url} is not an http:// URL; the server fetches plain HTTP only, because it has no TLS client")]
    UnsupportedScheme { url: String },

    #[error("the host {host} of {url} is not in INGEST_URL_ALLOWED_HOSTS; add it there to let importers fetch from it")]
    HostNotAllowed { url: String, host: String },

    #[error("connecting to {address} for {url} failed: {source}")]
    Connect {
        url: String,
        address: String,
        #[source]
        source: std::io::Error,
    },

    #[error("the HTTP exchange for {url} failed: {source}")]
    Http {
        url: String,
        #[source]
        source: hyper::Error,
    },

    #[error(
        "the server at {url} returned the HTTP status {status}; check that the file is there and readable without credentials"
    )]
    Status { url: String, status: u16 },

    #[error(
        "the URL {url} redirected more than {limit} times; raise INGEST_URL_MAX_REDIRECTS or point the importer at the final URL"
    )]
    TooManyRedirects { url: String, limit: u32 },

    #[error("the server at {url} returned the redirect status {status} without a valid Location header")]
    BadRedirect { url: String, status: u16 },

    #[error("the file at {url} is larger than {limit} bytes, the limit INGEST_URL_MAX_BYTES sets")]
    TooLarge { url: String, limit: u64 },

    #[error("fetching {url} did not finish within {} s, the limit INGEST_URL_TIMEOUT_SECONDS sets", timeout.as_secs_f64())]
    TimedOut { url: String, timeout: Duration },

    #[error("writing the fetched file to {} failed: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl FetchError {
    pub fn fault(&self) -> FetchFault {
        match self {
            FetchError::InvalidUrl { .. }
            | FetchError::UnsupportedScheme { .. }
            | FetchError::HostNotAllowed { .. }
            | FetchError::TooLarge { .. } => FetchFault::Rejected,
            FetchError::Connect { .. }
            | FetchError::Http { .. }
            | FetchError::Status { .. }
            | FetchError::TooManyRedirects { .. }
            | FetchError::BadRedirect { .. } => FetchFault::Upstream,
            FetchError::TimedOut { .. } => FetchFault::TimedOut,
            FetchError::Write { .. } => FetchFault::Storage,
        }
    }
}

/// Fetches `url` into a new file at `destination`, by the rules in the module
/// documentation.
pub async fn fetch_to_file(url: &str, destination: &Path, settings: &FetchSettings) -> Result<Fetched, FetchError> {
    let outcome = match tokio::time::timeout(settings.timeout, fetch(url, destination, settings)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(FetchError::TimedOut { url: url.to_owned(), timeout: settings.timeout }),
    };
    if outcome.is_err() {
        // The file may not exist yet, and then there is nothing to remove.
        let _ = tokio::fs::remove_file(destination).await;
    }
    outcome
}

async fn fetch(url: &str, destination: &Path, settings: &FetchSettings) -> Result<Fetched, FetchError> {
    let mut target = Target::parse(url)?;
    let mut redirects = 0;
    loop {
        target.check_allowed(&settings.allowed_hosts)?;
        let response = send(&target, settings.proxy.as_ref()).await?;
        let status = response.status();

        if is_followed_redirect(status) {
            if redirects == settings.max_redirects {
                return Err(FetchError::TooManyRedirects { url: url.to_owned(), limit: settings.max_redirects });
            }
            redirects += 1;
            let bad_redirect = || FetchError::BadRedirect { url: target.url.clone(), status: status.as_u16() };
            let location =
                response.headers().get(LOCATION).and_then(|value| value.to_str().ok()).ok_or_else(bad_redirect)?;
            let next = target.resolve(location).map_err(|_| bad_redirect())?;
            tracing::debug!(from = %target.url, to = %next.url, status = status.as_u16(), "following a redirect");
            target = next;
            continue;
        }
        if !status.is_success() {
            return Err(FetchError::Status { url: target.url, status: status.as_u16() });
        }

        let bytes = write_body(response, &target.url, destination, settings.max_bytes).await?;
        return Ok(Fetched { url: target.url, bytes });
    }
}

fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// A parsed `http://` URL.
#[derive(Debug, Clone)]
struct Target {
    url: String,
    host: String,
    port: u16,
    /// `host[:port]` as the URL writes it, for the `Host` header.
    authority: String,
    /// The path and query, `/` when the URL has none.
    path_and_query: String,
}

impl Target {
    fn parse(url: &str) -> Result<Self, FetchError> {
        let invalid = |reason| FetchError::InvalidUrl { url: url.to_owned(), reason };
        let uri: Uri =
            url.trim().parse().map_err(|_| invalid("it is not an absolute URL such as http://host/file.csv"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(_) => return Err(FetchError::UnsupportedScheme { url: url.to_owned() }),
            None => return Err(invalid("it has no scheme; write it as http://host/path")),
        }
        let authority = uri.authority().ok_or_else(|| invalid("it has no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("credentials in a URL are not supported"));
        }
        let host = uri.host().filter(|host| !host.is_empty()).ok_or_else(|| invalid("it has no host"))?;
        Ok(Self {
            url: uri.to_string(),
            host: host.to_ascii_lowercase(),
            port: uri.port_u16().unwrap_or(80),
            authority: authority.as_str().to_owned(),
            path_and_query: uri.path_and_query().map_or("/".to_owned(), |path| path.as_str().to_owned()),
        })
    }

    fn check_allowed(&self, allowed_hosts: &[String]) -> Result<(), FetchError> {
        if allowed_hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(&self.host)) {
            Ok(())
        } else {
            Err(FetchError::HostNotAllowed { url: self.url.clone(), host: self.host.clone() })
        }
    }

    /// Resolves a `Location` header against this URL: absolute, scheme-relative,
    /// absolute-path and relative-path references are accepted.
    fn resolve(&self, location: &str) -> Result<Self, FetchError> {
        let location = location.split('#').next().unwrap_or_default().trim();
        let absolute = if location.starts_with("//") {
            format!("http:{location}")
        } else if location.contains("://") {
            location.to_owned()
        } else if location.starts_with('/') {
            format!("http://{}{location}", self.authority)
        } else {
            let path = self.path_and_query.split('?').next().unwrap_or("/");
            let directory = &path[..=path.rfind('/').unwrap_or(0)];
            format!("http://{}{directory}{location}", self.authority)
        };
        Self::parse(&absolute)
    }
}

/// Aborts a spawned task when dropped, so that a fetch cut off by its deadline leaves no
/// connection behind.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The response and the task that drives its connection, which must live as long as
/// the body is read.
struct Exchange {
    response: Response<Incoming>,
    _connection: AbortOnDrop,
}

impl std::ops::Deref for Exchange {
    type Target = Response<Incoming>;

    fn deref(&self) -> &Self::Target {
        &self.response
    }
}

async fn send(target: &Target, proxy: Option<&ProxyAddress>) -> Result<Exchange, FetchError> {
    let (connect_host, connect_port) = match proxy {
        Some(proxy) => (proxy.host.as_str(), proxy.port),
        None => (target.host.as_str(), target.port),
    };
    let stream = TcpStream::connect((connect_host.trim_matches(['[', ']']), connect_port)).await.map_err(|source| {
        FetchError::Connect { url: target.url.clone(), address: format!("{connect_host}:{connect_port}"), source }
    })?;
    let http_error = |source| FetchError::Http { url: target.url.clone(), source };
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(http_error)?;
    let connection = AbortOnDrop(tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "an HTTP connection of a URL fetch ended with an error");
        }
    }));

    // A proxy takes the whole URL, an origin server only the path.
    let request_target = if proxy.is_some() { target.url.clone() } else { target.path_and_query.clone() };
    let request = Request::get(request_target)
        .header(HOST, &target.authority)
        .header(USER_AGENT, concat!("ingest/", env!("CARGO_PKG_VERSION")))
        .body(Empty::<Bytes>::new())
        .map_err(|_| FetchError::InvalidUrl { url: target.url.clone(), reason: "it cannot be sent as a request" })?;
    let response = sender.send_request(request).await.map_err(http_error)?;
    Ok(Exchange { response, _connection: connection })
}

async fn write_body(exchange: Exchange, url: &str, destination: &Path, max_bytes: u64) -> Result<u64, FetchError> {
    let too_large = || FetchError::TooLarge { url: url.to_owned(), limit: max_bytes };
    let declared = exchange.headers().get(CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_bytes) {
        return Err(too_large());
    }

    let write_error = |source| FetchError::Write { path: destination.to_owned(), source };
    let mut file = tokio::fs::File::create(destination).await.map_err(write_error)?;
    let Exchange { response, _connection } = exchange;
    let mut body = response.into_body();
    let mut written = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|source| FetchError::Http { url: url.to_owned(), source })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        written += data.len() as u64;
        if written > max_bytes {
            return Err(too_large());
        }
        file.write_all(&data).await.map_err(write_error)?;
    }
    file.flush().await.map_err(write_error)?;
    file.sync_all().await.map_err(write_error)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// One canned response of [`Server`].
    #[derive(Clone)]
    struct Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        /// Sent without `Content-Length`, ended by closing the connection.
        unsized_body: bool,
        delay: Duration,
    }

    impl Reply {
        fn ok(body: &str) -> Self {
            Self {
                status: 200,
                headers: Vec::new(),
                body: body.as_bytes().to_vec(),
                unsized_body: false,
                delay: Duration::ZERO,
            }
        }

        fn redirect(status: u16, location: &str) -> Self {
            Self { status, headers: vec![("Location".into(), location.into())], ..Self::ok("") }
        }
    }

    /// A loopback HTTP/1.1 server that replies to each request target (`/path`, or the
    /// absolute URL a proxy receives) with a canned reply and records the request heads.
    struct Server {
        address: String,
        requests: Arc<Mutex<Vec<String>>>,
    }

    impl Server {
        fn start(routes: Vec<(&str, Reply)>) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let address = listener.local_addr().unwrap().to_string();
            let routes: Vec<(String, Reply)> =
                routes.into_iter().map(|(path, reply)| (path.to_owned(), reply)).collect();
            let requests = Arc::new(Mutex::new(Vec::new()));
            let recorded = requests.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { break };
                    let routes = routes.clone();
                    let recorded = recorded.clone();
                    std::thread::spawn(move || answer(stream, &routes, &recorded));
                }
            });
            Self { address, requests }
        }

        fn url(&self, path: &str) -> String {
            format!("http://{}{path}", self.address)
        }

        fn requests(&self) -> Vec<String> {
            self.requests.lock().unwrap().clone()
        }
    }

    fn answer(stream: std::net::TcpStream, routes: &[(String, Reply)], recorded: &Mutex<Vec<String>>) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        recorded.lock().unwrap().push(head.clone());
        let target = head.split_whitespace().nth(1).unwrap_or_default().to_owned();
        let reply = routes
            .iter()
            .find(|(path, _)| *path == target)
            .map(|(_, reply)| reply.clone())
            .unwrap_or(Reply { status: 404, ..Reply::ok("not found") });

        std::thread::sleep(reply.delay);
        let mut stream = stream;
        let mut response = format!("HTTP/1.1 {} Canned\r\nConnection: close\r\n", reply.status);
        for (name, value) in &reply.headers {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
        if !reply.unsized_body {
            response.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
        }
        response.push_str("\r\n");
        let _ = stream.write_all(response.as_bytes());
        let _ = stream.write_all(&reply.body);
    }

    fn settings() -> FetchSettings {
        FetchSettings {
            allowed_hosts: vec!["127.0.0.1".into()],
            timeout: Duration::from_secs(10),
            ..FetchSettings::default()
        }
    }

    /// A destination path under the temporary directory, removed when dropped.
    struct Destination(PathBuf);

    impl Destination {
        fn new(name: &str) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let unique = NEXT.fetch_add(1, Ordering::Relaxed);
            Self(std::env::temp_dir().join(format!("ingest-fetch-{}-{unique}-{name}", std::process::id())))
        }

        fn text(&self) -> String {
            std::fs::read_to_string(&self.0).unwrap()
        }
    }

    impl Drop for Destination {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[tokio::test]
    async fn fetch_stores_body() {
        let server = Server::start(vec![("/data/cars.json", Reply::ok("[{\"a\": 1}]"))]);
        let destination = Destination::new("cars.json");

        let fetched = fetch_to_file(&server.url("/data/cars.json"), &destination.0, &settings()).await.unwrap();

        assert_eq!(fetched, Fetched { url: server.url("/data/cars.json"), bytes: 10 });
        assert_eq!(destination.text(), "[{\"a\": 1}]");
        let request = &server.requests()[0];
        assert!(request.starts_with("GET /data/cars.json HTTP/1.1\r\n"), "{request}");
        assert!(request.to_ascii_lowercase().contains(&format!("host: {}", server.address)), "{request}");
    }

    #[tokio::test]
    async fn fetch_follows_redirects() {
        let server = Server::start(vec![
            ("/old", Reply::redirect(301, "/moved/here.csv")),
            ("/moved/here.csv", Reply::redirect(302, "final.csv#top")),
            ("/moved/final.csv", Reply::ok("a,b\n")),
        ]);
        let destination = Destination::new("final.csv");

        let fetched = fetch_to_file(&server.url("/old"), &destination.0, &settings()).await.unwrap();

        assert_eq!(fetched.url, server.url("/moved/final.csv"));
        assert_eq!(destination.text(), "a,b\n");
    }

    #[tokio::test]
    async fn fetch_stops_after_redirect_limit() {
        let server = Server::start(vec![("/loop", Reply::redirect(307, "/loop"))]);
        let destination = Destination::new("loop.csv");
        let settings = FetchSettings { max_redirects: 3, ..settings() };

        let error = fetch_to_file(&server.url("/loop"), &destination.0, &settings).await.unwrap_err();

        assert!(matches!(error, FetchError::TooManyRedirects { limit: 3, .. }), "{error:?}");
        assert_eq!(server.requests().len(), 4, "the first request and three redirects");
        assert_eq!(error.fault(), FetchFault::Upstream);
    }

    #[tokio::test]
    async fn fetch_checks_host_of_each_redirect() {
        let server = Server::start(vec![("/away", Reply::redirect(302, "http://example.com/file.csv"))]);
        let destination = Destination::new("away.csv");

        let error = fetch_to_file(&server.url("/away"), &destination.0, &settings()).await.unwrap_err();

        assert!(matches!(&error, FetchError::HostNotAllowed { host, .. } if host == "example.com"), "{error:?}");
        assert_eq!(error.fault(), FetchFault::Rejected);
    }

    #[tokio::test]
    async fn fetch_rejects_host_not_allowed() {
        let server = Server::start(vec![("/a.csv", Reply::ok("a\n"))]);
        let destination = Destination::new("a.csv");
        let settings = FetchSettings { allowed_hosts: Vec::new(), ..settings() };

        let error = fetch_to_file(&server.url("/a.csv"), &destination.0, &settings).await.unwrap_err();

        assert!(matches!(error, FetchError::HostNotAllowed { .. }), "{error:?}");
        assert!(server.requests().is_empty(), "nothing is sent to a host that is not allowed");
    }

    #[tokio::test]
    async fn fetch_rejects_other_schemes_and_bad_urls() {
        let destination = Destination::new("none.csv");
        let cases = [
            ("https://127.0.0.1/a.csv", "UnsupportedScheme"),
            ("ftp://127.0.0.1/a.csv", "UnsupportedScheme"),
            ("/relative/a.csv", "InvalidUrl"),
            ("http://user:secret@127.0.0.1/a.csv", "InvalidUrl"),
            ("not a url", "InvalidUrl"),
        ];
        for (url, expected) in cases {
            let error = fetch_to_file(url, &destination.0, &settings()).await.unwrap_err();
            assert!(format!("{error:?}").starts_with(expected), "{url}: {error:?}");
            assert_eq!(error.fault(), FetchFault::Rejected, "{url}");
        }
        let error = fetch_to_file("https://127.0.0.1/a.csv", &destination.0, &settings()).await.unwrap_err();
        assert!(error.to_string().contains("plain HTTP only"), "{error}");
    }

    #[tokio::test]
    async fn fetch_reports_error_status() {
        let server = Server::start(Vec::new());
        let destination = Destination::new("missing.csv");

        let error = fetch_to_file(&server.url("/missing.csv"), &destination.0, &settings()).await.unwrap_err();

        assert!(matches!(error, FetchError::Status { status: 404, .. }), "{error:?}");
        assert!(!destination.0.exists(), "nothing is stored for an error status");
    }

    #[tokio::test]
    async fn fetch_enforces_size_limit() {
        let body = "x".repeat(2000);
        let unsized_reply = Reply { unsized_body: true, ..Reply::ok(&body) };
        let server = Server::start(vec![("/declared", Reply::ok(&body)), ("/unsized", unsized_reply)]);
        let settings = FetchSettings { max_bytes: 1000, ..settings() };

        for path in ["/declared", "/unsized"] {
            let destination = Destination::new("big.csv");
            let error = fetch_to_file(&server.url(path), &destination.0, &settings).await.unwrap_err();
            assert!(matches!(error, FetchError::TooLarge { limit: 1000, .. }), "{path}: {error:?}");
            assert!(!destination.0.exists(), "{path}: the partial file is removed");
        }

        let destination = Destination::new("exact.csv");
        let settings = FetchSettings { max_bytes: 2000, ..settings };
        let fetched = fetch_to_file(&server.url("/unsized"), &destination.0, &settings).await.unwrap();
        assert_eq!(fetched.bytes, 2000, "a body of exactly the limit is accepted");
    }

    #[tokio::test]
    async fn fetch_times_out() {
        let slow = Reply { delay: Duration::from_secs(3), ..Reply::ok("late") };
        let server = Server::start(vec![("/slow", slow)]);
        let destination = Destination::new("slow.csv");
        let settings = FetchSettings { timeout: Duration::from_millis(300), ..settings() };

        let started = std::time::Instant::now();
        let error = fetch_to_file(&server.url("/slow"), &destination.0, &settings).await.unwrap_err();

        assert!(matches!(error, FetchError::TimedOut { .. }), "{error:?}");
        assert_eq!(error.fault(), FetchFault::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    }

    #[tokio::test]
    async fn fetch_refused_connection_is_upstream() {
        // Bind and drop a listener to find a port that nothing listens on.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let destination = Destination::new("refused.csv");

        let error =
            fetch_to_file(&format!("http://127.0.0.1:{port}/a.csv"), &destination.0, &settings()).await.unwrap_err();

        assert!(matches!(error, FetchError::Connect { .. }), "{error:?}");
        assert_eq!(error.fault(), FetchFault::Upstream);
    }

    #[tokio::test]
    async fn fetch_through_proxy_sends_absolute_url() {
        // The URL names a host that does not resolve; only the proxy is contacted.
        let proxy = Server::start(vec![("http://fixtures.invalid/stocks.csv", Reply::ok("symbol\nMSFT\n"))]);
        let destination = Destination::new("stocks.csv");
        let settings = FetchSettings {
            allowed_hosts: vec!["fixtures.invalid".into()],
            proxy: Some(format!("http://{}", proxy.address).parse().unwrap()),
            ..settings()
        };

        let fetched = fetch_to_file("http://fixtures.invalid/stocks.csv", &destination.0, &settings).await.unwrap();

        assert_eq!(fetched.bytes, 12);
        let request = &proxy.requests()[0];
        assert!(request.starts_with("GET http://fixtures.invalid/stocks.csv HTTP/1.1\r\n"), "{request}");
        assert!(request.to_ascii_lowercase().contains("host: fixtures.invalid\r\n"), "{request}");
    }

    #[test]
    fn proxy_address_parses_http_urls_only() {
        let proxy: ProxyAddress = "http://127.0.0.1:3128".parse().unwrap();
        assert_eq!(proxy.to_string(), "http://127.0.0.1:3128");
        assert_eq!("http://proxy".parse::<ProxyAddress>().unwrap().to_string(), "http://proxy:80");
        for text in ["127.0.0.1:3128", "https://proxy:443", "socks5://proxy:1080", ""] {
            assert!(text.parse::<ProxyAddress>().is_err(), "{text:?}");
        }
    }
}
