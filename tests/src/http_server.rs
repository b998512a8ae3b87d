//! A loopback HTTP/1.1 server with canned replies, for importers whose source is a URL.
//!
//! It replies to each request by its request target: `/path` when a client connects to it
//! directly, or the whole URL (`http://host:port/path`) when the server under test uses
//! it as its `INGEST_URL_PROXY`. Example importers name fixed URLs, so the tests serve
//! them through the proxy setting, and the server under test never contacts the host in
//! the URL. Unknown targets get 404.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One canned response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The time the server waits before it replies.
    pub delay: Duration,
}

impl Reply {
    /// Returns 200 with `body` and its `Content-Length`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Self { status: 200, headers: Vec::new(), body: body.into(), delay: Duration::ZERO }
    }

    /// Returns 200 with the contents of `path`.
    pub fn file(path: &Path) -> Self {
        let body = std::fs::read(path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        Self::ok(body)
    }

    /// Returns a redirect with status `status` to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Self { status, headers: vec![("Location".to_owned(), location.to_owned())], ..Self::ok("") }
    }

    /// Returns a reply with status `status` and a short text body.
    pub fn status(status: u16) -> Self {
        Self { status, ..Self::ok(format!("status {status}")) }
    }

    /// Returns the same reply, sent after `delay`.
    pub fn delayed(self, delay: Duration) -> Self {
        Self { delay, ..self }
    }
}

/// A running server, stopped when dropped.
pub struct HttpServer {
    address: String,
    requests: Arc<Mutex<Vec<String>>>,
    stopped: Arc<AtomicBool>,
}

impl HttpServer {
    /// Starts the server on a free port of 127.0.0.1 with `routes`, pairs of request
    /// target and reply.
    pub fn start(routes: Vec<(String, Reply)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("cannot bind a local port for the HTTP server");
        let address = listener.local_addr().expect("a bound listener has an address").to_string();
        let routes = Arc::new(routes);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stopped = Arc::new(AtomicBool::new(false));

        let (recorded, stop) = (requests.clone(), stopped.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (routes, recorded) = (routes.clone(), recorded.clone());
                std::thread::spawn(move || answer(stream, &routes, &recorded));
            }
        });
        Self { address, requests, stopped }
    }

    /// Returns `http://127.0.0.1:<port>`, the value for `INGEST_URL_PROXY`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Returns the request targets received so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("no thread panics while holding the lock").clone()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then reads the flag and ends.
        let _ = TcpStream::connect(&self.address);
    }
}

fn answer(stream: TcpStream, routes: &[(String, Reply)], recorded: &Mutex<Vec<String>>) {
    let Ok(reader_stream) = stream.try_clone() else { return };
    let mut reader = BufReader::new(reader_stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    // Reads the rest of the head; a GET has no body.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }

    let target = request_line.split_whitespace().nth(1).unwrap_or_default().to_owned();
    recorded.lock().expect("no thread panics while holding the lock").push(target.clone());
    let reply = routes
        .iter()
        .find(|(route, _)| *route == target)
        .map(|(_, reply)| reply.clone())
        .unwrap_or_else(|| Reply::status(404));

    std::thread::sleep(reply.delay);
    let mut head =
        format!("HTTP/1.1 {} Canned\r\nConnection: close\r\nContent-Length: {}\r\n", reply.status, reply.body.len());
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = stream;
    // The client may have given up (a timeout test), so write errors are expected.
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&reply.body));
}
