//! A small static HTTP origin of the tests' own: one object at every path,
//! HEAD, byte ranges (206), a strong ETag and If-Match (412 once the object
//! was replaced), one request per connection.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, RwLock};

pub struct Origin {
    pub url: String,
    object: Arc<RwLock<(Vec<u8>, String)>>,
}

impl Origin {
    pub fn start(data: Vec<u8>) -> Origin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind origin");
        let url = format!(
            "http://{}/images/root.tar",
            listener.local_addr().expect("addr")
        );
        let etag = etag_of(&data);
        let object = Arc::new(RwLock::new((data, etag)));
        let serving = object.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let object = serving.clone();
                std::thread::spawn(move || {
                    let _ = serve(client, &object);
                });
            }
        });
        Origin { url, object }
    }

    /// Replaces the object (its ETag changes with it).
    pub fn replace(&self, data: Vec<u8>) {
        let etag = etag_of(&data);
        *self.object.write().expect("object") = (data, etag);
    }
}

fn etag_of(data: &[u8]) -> String {
    format!("\"{}\"", &super::servers::sha256_hex(data)[..16])
}

fn serve(mut client: TcpStream, object: &RwLock<(Vec<u8>, String)>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let method = text.split(' ').next().unwrap_or("").to_string();
    let header = |name: &str| {
        text.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let (data, etag) = object.read().expect("object").clone();
    if header("if-match").is_some_and(|m| m != etag) {
        return client.write_all(
            b"HTTP/1.1 412 Precondition Failed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    }
    let range = header("range").and_then(|r| {
        let (a, b) = r.strip_prefix("bytes=")?.split_once('-')?;
        let start: usize = a.parse().ok()?;
        let end: usize = b.parse::<usize>().ok()?.min(data.len().saturating_sub(1));
        (start <= end).then_some((start, end))
    });
    let (status, body) = match range {
        Some((start, end)) => ("206 Partial Content", &data[start..=end]),
        None => ("200 OK", &data[..]),
    };
    let mut reply = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nETag: {etag}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n",
        body.len()
    );
    if let Some((start, end)) = range {
        reply.push_str(&format!(
            "Content-Range: bytes {start}-{end}/{}\r\n",
            data.len()
        ));
    }
    reply.push_str("\r\n");
    client.write_all(reply.as_bytes())?;
    if method != "HEAD" {
        client.write_all(body)?;
    }
    Ok(())
}
