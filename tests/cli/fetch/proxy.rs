//! A fault-injecting HTTP proxy of the tests' own, in front of a real server.
//!
//! Each client connection carries one request: the proxy asks the upstream
//! to close after its response and tells the client the same, so every
//! request can be counted, inspected and, if the test queued a fault for it,
//! broken: dropped, answered with S3's 503 SlowDown, cut short, or stalled.
//! Faults apply to GETs only, in the order queued.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Forward the request untouched (to queue faults for later requests).
    Pass,
    /// Close the connection without answering.
    Drop,
    /// 503 with S3's SlowDown error document.
    SlowDown,
    /// Forward the status and headers and this many body bytes, then close.
    Truncate(usize),
    /// Forward the headers and half the body, then send nothing more until
    /// the client gives up.
    Stall,
    /// Forward the headers and half the body, then the rest only once the
    /// client has asked for a range that starts inside this one: a
    /// connection that goes on only when another takes over part of it.
    Hold,
    /// Forward everything with the first body byte flipped: damage in
    /// transit that no length or status check can see.
    Corrupt,
}

type Hook = Box<dyn FnMut(u64) + Send>;

#[derive(Default)]
struct Shared {
    faults: Mutex<VecDeque<Fault>>,
    gets: AtomicU64,
    heads: AtomicU64,
    body_bytes: AtomicU64,
    ranges: Mutex<Vec<String>>,
    before_get: Mutex<Option<Hook>>,
    /// Notified at every GET's range (for `Fault::Hold`).
    arrived: std::sync::Condvar,
}

pub struct Proxy {
    pub endpoint: String,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts a proxy in front of `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Proxy {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("http upstream")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = Arc::new(Shared::default());
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (shared, upstream) = (accepting.clone(), upstream.clone());
                std::thread::spawn(move || {
                    let _ = handle(client, &upstream, &shared);
                });
            }
        });
        Proxy { endpoint, shared }
    }

    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.faults.lock().expect("faults").extend(faults);
    }

    /// Runs `hook(n)` before forwarding the n-th GET (1-based).
    pub fn before_get(&self, hook: impl FnMut(u64) + Send + 'static) {
        *self.shared.before_get.lock().expect("hook") = Some(Box::new(hook));
    }

    pub fn gets(&self) -> u64 {
        self.shared.gets.load(Ordering::SeqCst)
    }

    pub fn heads(&self) -> u64 {
        self.shared.heads.load(Ordering::SeqCst)
    }

    /// Body bytes of successful GET responses forwarded to clients.
    pub fn body_bytes(&self) -> u64 {
        self.shared.body_bytes.load(Ordering::SeqCst)
    }

    /// The Range headers of the GETs, in arrival order.
    pub fn ranges(&self) -> Vec<String> {
        self.shared.ranges.lock().expect("ranges").clone()
    }

    pub fn reset_counts(&self) {
        self.shared.gets.store(0, Ordering::SeqCst);
        self.shared.heads.store(0, Ordering::SeqCst);
        self.shared.body_bytes.store(0, Ordering::SeqCst);
        self.shared.ranges.lock().expect("ranges").clear();
    }
}

fn handle(mut client: TcpStream, upstream: &str, shared: &Shared) -> std::io::Result<()> {
    let Some(head) = read_head(&mut client)? else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&head).into_owned();
    let method = text.split(' ').next().unwrap_or("").to_string();
    let mut fault = None;
    if method == "GET" {
        let n = shared.gets.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(range) = header(&text, "range") {
            shared.ranges.lock().expect("ranges").push(range);
            shared.arrived.notify_all();
        }
        if let Some(hook) = shared.before_get.lock().expect("hook").as_mut() {
            hook(n);
        }
        fault = shared.faults.lock().expect("faults").pop_front();
    } else if method == "HEAD" {
        shared.heads.fetch_add(1, Ordering::SeqCst);
    }
    match fault {
        Some(Fault::Drop) => return Ok(()),
        Some(Fault::SlowDown) => {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
            let reply = format!(
                "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            return client.write_all(reply.as_bytes());
        }
        _ => {}
    }
    let mut server = TcpStream::connect(upstream)?;
    server.write_all(&with_connection_close(&text).into_bytes())?;
    let Some(response_head) = read_head(&mut server)? else {
        return Ok(());
    };
    let response_text = String::from_utf8_lossy(&response_head).into_owned();
    let ok = response_text
        .split(' ')
        .nth(1)
        .is_some_and(|s| s.starts_with('2'));
    let length: Option<usize> =
        header(&response_text, "content-length").and_then(|v| v.parse().ok());
    client.write_all(with_connection_close(&response_text).as_bytes())?;
    let limit = match fault {
        Some(Fault::Truncate(n)) => Some(n),
        Some(Fault::Stall | Fault::Hold) => Some(length.unwrap_or(0) / 2),
        _ => None,
    };
    let mut forwarded = 0usize;
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        let want = limit.map_or(buffer.len(), |l| (l - forwarded).min(buffer.len()));
        if want == 0 {
            break;
        }
        let n = server.read(&mut buffer[..want])?;
        if n == 0 {
            break;
        }
        if forwarded == 0 && matches!(fault, Some(Fault::Corrupt)) {
            buffer[0] ^= 0xff;
        }
        client.write_all(&buffer[..n])?;
        forwarded += n;
        if ok && method == "GET" {
            shared.body_bytes.fetch_add(n as u64, Ordering::SeqCst);
        }
    }
    if let Some(Fault::Hold) = fault {
        let held = header(&text, "range").and_then(|r| range_of(&r));
        let mut ranges = shared.ranges.lock().expect("ranges");
        while !ranges
            .iter()
            .filter_map(|r| range_of(r))
            .any(|(from, _)| held.is_some_and(|(start, end)| from > start && from <= end))
        {
            ranges = shared.arrived.wait(ranges).expect("ranges");
        }
        drop(ranges);
        // The client may have hung up by now: it owes us nothing.
        let _ = std::io::copy(&mut server, &mut client);
        return Ok(());
    }
    if let Some(Fault::Stall) = fault {
        // Hold the connection silently until the client hangs up.
        let mut sink = [0u8; 1024];
        while client.read(&mut sink).is_ok_and(|n| n > 0) {}
    }
    Ok(())
}

/// `bytes=A-B` as (A, B).
fn range_of(header: &str) -> Option<(u64, u64)> {
    let (from, to) = header.strip_prefix("bytes=")?.split_once('-')?;
    Some((from.parse().ok()?, to.parse().ok()?))
}

/// Reads up to and including the blank line ending an HTTP head.
fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Ok(None);
        }
        head.push(byte[0]);
    }
    Ok(Some(head))
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

/// The same head with `Connection: close` instead of any Connection header.
fn with_connection_close(head: &str) -> String {
    let mut out = String::new();
    for line in head.trim_end_matches("\r\n").split("\r\n") {
        if line
            .split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("connection"))
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}
