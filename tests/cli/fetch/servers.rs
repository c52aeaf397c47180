//! Real S3-compatible servers on loopback for the fetch tests: s3s-fs
//! in-process (one per test binary, a bucket per test), moto as a child
//! process (the one that answers If-Match with 412), and an S3 client (the
//! real aws-sdk-s3) to put objects into them.

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ChecksumAlgorithm;
use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "AKIAPMTESTACCESSKEY1";
/// Long and unique, so a test can search logs and JSON for it.
pub const SECRET_KEY: &str = "pm-test-secret-Zq8vW3xK9mN2bR7tY4uE6";

/// The endpoint of the shared in-process s3s-fs server.
pub fn s3s_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(start_s3s_fs)
}

fn start_s3s_fs() -> String {
    let root = tempfile::tempdir().expect("s3s-fs root").keep();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            use hyper_util::rt::{TokioExecutor, TokioIo};
            use hyper_util::server::conn::auto::Builder;
            let fs = s3s_fs::FileSystem::new(root).expect("s3s-fs");
            let mut builder = s3s::service::S3ServiceBuilder::new(fs);
            builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
            let service = builder.build();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr").port())
                .expect("report port");
            let http = Builder::new(TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        });
    });
    let port = rx.recv().expect("s3s-fs started");
    format!("http://127.0.0.1:{port}")
}

/// A moto server on a free loopback port, killed on drop.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Moto {
        let exe = repo_root().join(".tools/venv/bin/moto_server");
        assert!(
            exe.exists(),
            "moto is not installed ({}): run `bash scripts/test-linux.sh` once",
            exe.display()
        );
        let port = free_port();
        let child = Command::new(exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        wait_for_port(port, Duration::from_secs(60));
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Polls until something accepts connections on the port.
pub fn wait_for_port(port: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A real S3 client for setting up objects (never used by pm itself).
pub struct Setup {
    client: aws_sdk_s3::Client,
    runtime: tokio::runtime::Runtime,
}

impl Setup {
    pub fn new(endpoint: &str) -> Setup {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .force_path_style(true)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test"))
            .http_client(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                        aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https(),
            )
            .build();
        Setup {
            client: aws_sdk_s3::Client::from_conf(config),
            runtime,
        }
    }

    pub fn bucket(&self, bucket: &str) {
        let _ = self
            .runtime
            .block_on(self.client.create_bucket().bucket(bucket).send());
    }

    /// Uploads with a SHA-256 checksum, which s3s-fs and moto keep and
    /// return on HEAD.
    pub fn put(&self, bucket: &str, key: &str, data: &[u8]) {
        self.runtime
            .block_on(
                self.client
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .checksum_algorithm(ChecksumAlgorithm::Sha256)
                    .body(ByteStream::from(data.to_vec()))
                    .send(),
            )
            .expect("put object");
    }
}

/// Deterministic, incompressible-looking test data.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// nginx serving one file over TLS with a throwaway self-signed
/// certificate for 127.0.0.1; stopped on drop.
pub struct TlsOrigin {
    child: Child,
    pub url: String,
    /// The certificate, for SSL_CERT_FILE.
    pub cert: PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsOrigin {
    pub fn start(body: &[u8]) -> TlsOrigin {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .unwrap_or_else(|| {
                panic!("nginx is not installed: run `bash scripts/test-linux.sh` once")
            });
        let dir = tempfile::tempdir().expect("nginx dir");
        let root = dir.path().join("root");
        std::fs::create_dir_all(&root).expect("root");
        std::fs::write(root.join("root.tar"), body).expect("object");
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let status = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            // A server certificate, not a CA (webpki refuses a CA as end entity).
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .args(["-addext", "extendedKeyUsage=serverAuth"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(Stdio::null())
            .status()
            .expect("run openssl");
        assert!(status.success(), "openssl req failed");
        let port = free_port();
        let d = dir.path().display();
        let conf = format!(
            "daemon off; master_process off; error_log {d}/error.log; pid {d}/nginx.pid;\n\
             events {{ worker_connections 64; }}\n\
             http {{ access_log off; client_body_temp_path {d}; proxy_temp_path {d};\n\
               fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};\n\
               server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {c}; ssl_certificate_key {k};\n\
                 root {r}; }} }}\n",
            c = cert.display(),
            k = key.display(),
            r = root.display()
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).expect("conf");
        let child = Command::new(nginx)
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .arg("-p")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        wait_for_port(port, Duration::from_secs(20));
        TlsOrigin {
            child,
            url: format!("https://127.0.0.1:{port}/root.tar"),
            cert,
            _dir: dir,
        }
    }
}

impl Drop for TlsOrigin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
