//! The parallel ranged-part download engine.
//!
//! An object is cut into fixed-size parts. Up to `concurrency` parts are
//! fetched at once, each with its own retries (exponential backoff with
//! jitter) on transient faults, and written with positioned writes into the
//! preallocated partial file. Every finished part is announced on the
//! `finished` channel, whose receiver records it in state, so a crash loses
//! at most the parts in flight.
//!
//! SHA-256 is computed in the same run: a hasher thread consumes parts in
//! order. A part that starts within `concurrency` parts of the hashed prefix
//! (the window) keeps its bytes in a buffer for the hasher, so data is not
//! read back; at most `concurrency` such buffers exist at any time (every
//! buffered part that is not hashed yet lies in the window), so memory is
//! bounded by `concurrency × part_size` whatever the object size. A
//! connection whose next part lies beyond the window does not wait for the
//! hash to catch up (one slow part would otherwise idle all the others): it
//! fetches ahead, up to `LOOKAHEAD_WINDOWS` windows, without a buffer, and
//! the hasher reads that part back from the file (the page cache) when the
//! prefix reaches it, as it does for parts an interrupted run left on disk.

use crate::image::http::{HttpBody, HttpObject};
pub use crate::image::remote::{Fault, ObjectInfo};
use crate::image::s3::{S3Body, S3Object};
use crate::progress::Progress;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Where the bytes come from.
pub enum Remote {
    S3(S3Object),
    Http(Box<HttpObject>),
}

enum Body {
    S3(S3Body),
    Http(HttpBody),
}

impl Remote {
    pub async fn head(&self) -> Result<ObjectInfo, Fault> {
        match self {
            Remote::S3(o) => o.head().await,
            Remote::Http(o) => o.head().await,
        }
    }

    async fn get_range(&self, start: u64, end: u64, etag: Option<&str>) -> Result<Body, Fault> {
        Ok(match self {
            Remote::S3(o) => Body::S3(o.get_range(start, end, etag).await?),
            Remote::Http(o) => Body::Http(o.get_range(start, end, etag).await?),
        })
    }
}

impl Body {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, Fault> {
        match self {
            Body::S3(b) => b.next_chunk().await,
            Body::Http(b) => b.next_chunk().await,
        }
    }
}

/// How many windows of `concurrency` parts a connection may fetch ahead of
/// the hashed prefix. The parts beyond the first window are read back from
/// the page cache by the hasher; this bounds how much that can be.
const LOOKAHEAD_WINDOWS: u64 = 4;

/// How an object is cut and fetched.
#[derive(Clone, Debug)]
pub struct Plan {
    pub size: u64,
    pub part_size: u64,
    pub concurrency: usize,
    /// Retries per part after the first attempt.
    pub retries: u32,
    /// No byte for this long: the request counts as stalled.
    pub stall_timeout: Duration,
    /// Sent as If-Match on every GET, so a changed object is noticed.
    pub etag: Option<String>,
}

impl Plan {
    pub fn parts(&self) -> u64 {
        self.size.div_ceil(self.part_size)
    }

    /// The byte range of part `i`: start, and length.
    fn range(&self, i: u64) -> (u64, u64) {
        let start = i * self.part_size;
        (start, self.part_size.min(self.size - start))
    }
}

/// How a download ended without a digest.
#[derive(Debug)]
pub enum EngineError {
    /// The object changed under us (412): start again from zero.
    Changed,
    /// A part failed for good; `attempts` requests were made for it.
    Failed { fault: Fault, attempts: u32 },
    /// Local trouble: disk, threads.
    Local(anyhow::Error),
    /// SIGINT or SIGTERM: the parts in flight were abandoned; the finished
    /// ones were announced and are kept.
    Interrupted(i32),
}

/// What a finished download produced.
pub struct Downloaded {
    pub sha256: [u8; 32],
    /// Bytes received over the network by this run (retries included).
    pub bytes_received: u64,
}

/// Downloads every part not marked in `done` into `file` and returns the
/// SHA-256 of the whole object. `finished` receives each part's index once
/// its bytes are written.
pub async fn download(
    remote: Arc<Remote>,
    file: Arc<File>,
    plan: Plan,
    done: Vec<bool>,
    finished: std::sync::mpsc::Sender<u64>,
    progress: Arc<dyn Progress>,
) -> Result<Downloaded, EngineError> {
    let plan = Arc::new(plan);
    let (hashed_tx, mut hashed_rx) = watch::channel(0u64);
    let (buffers_tx, buffers_rx) = std::sync::mpsc::channel::<(u64, Option<Vec<u8>>)>();
    let pool = BufferPool::default();
    let hasher = {
        let (file, plan, done, pool) = (file.clone(), plan.clone(), done.clone(), pool.clone());
        std::thread::Builder::new()
            .name("pm-hash".to_string())
            .spawn(move || hash_in_order(&file, &plan, &done, &buffers_rx, &hashed_tx, &pool))
            .map_err(|e| EngineError::Local(e.into()))?
    };
    let received = Arc::new(AtomicU64::new(0));
    let window = plan.concurrency as u64;
    let lookahead = window * LOOKAHEAD_WINDOWS;
    let mut tasks = JoinSet::new();
    let mut failure = None;
    // A signal stops the download between chunks: the parts in flight are
    // dropped unrecorded, as a crash would drop them.
    let cancelled = crate::signals::cancelled();
    tokio::pin!(cancelled);
    'parts: for part in (0..plan.parts()).filter(|&i| !done[i as usize]) {
        // A part starts when a connection is free and it is within the
        // lookahead of the hashed prefix.
        loop {
            while let Some(joined) = tasks.try_join_next() {
                if let Err(e) = flatten(joined) {
                    failure = Some(e);
                    break 'parts;
                }
            }
            let hashed = *hashed_rx.borrow_and_update();
            if tasks.len() < plan.concurrency && part < hashed + lookahead {
                break;
            }
            tokio::select! {
                changed = hashed_rx.changed() => {
                    if changed.is_err() {
                        break 'parts; // the hasher stopped: its error is reported below
                    }
                }
                Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                    if let Err(e) = flatten(joined) {
                        failure = Some(e);
                        break 'parts;
                    }
                }
                signal = &mut cancelled => {
                    failure = Some(EngineError::Interrupted(signal));
                    break 'parts;
                }
            }
        }
        let buffered = part < *hashed_rx.borrow() + window;
        let job = PartJob {
            pool: pool.clone(),
            remote: remote.clone(),
            file: file.clone(),
            plan: plan.clone(),
            received: received.clone(),
            progress: progress.clone(),
        };
        let (finished, buffers) = (finished.clone(), buffers_tx.clone());
        tasks.spawn(async move {
            let bytes = job.fetch_with_retries(part, buffered).await?;
            let _ = finished.send(part);
            let _ = buffers.send((part, bytes));
            Ok(())
        });
    }
    while failure.is_none() {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                None => break,
                Some(joined) => failure = flatten(joined).err(),
            },
            signal = &mut cancelled => failure = Some(EngineError::Interrupted(signal)),
        }
    }
    tasks.abort_all();
    drop(buffers_tx);
    if let Some(e) = failure {
        return Err(e);
    }
    let sha256 = hasher
        .join()
        .map_err(|_| EngineError::Local(anyhow::anyhow!("the hashing thread panicked")))?
        .map_err(EngineError::Local)?;
    Ok(Downloaded {
        sha256,
        bytes_received: received.load(Ordering::Relaxed),
    })
}

fn flatten(
    joined: Result<Result<(), EngineError>, tokio::task::JoinError>,
) -> Result<(), EngineError> {
    joined.map_err(|e| EngineError::Local(anyhow::anyhow!("a download task failed: {e}")))?
}

/// Everything one part's task needs.
struct PartJob {
    pool: BufferPool,
    remote: Arc<Remote>,
    file: Arc<File>,
    plan: Arc<Plan>,
    received: Arc<AtomicU64>,
    progress: Arc<dyn Progress>,
}

impl PartJob {
    /// The part's bytes when `buffered`, else `None` (they are on disk).
    async fn fetch_with_retries(
        &self,
        part: u64,
        buffered: bool,
    ) -> Result<Option<Vec<u8>>, EngineError> {
        let attempts = self.plan.retries + 1;
        let mut attempt = 1;
        loop {
            match self.fetch_once(part, buffered).await {
                Ok(bytes) => return Ok(bytes),
                Err(PartError::Local(e)) => {
                    return Err(EngineError::Local(
                        anyhow::Error::new(e).context("writing the partial file"),
                    ));
                }
                Err(PartError::Fault(Fault::Changed)) => return Err(EngineError::Changed),
                Err(PartError::Fault(fault)) if fault.retryable() && attempt < attempts => {
                    let delay = backoff(attempt);
                    tracing::info!(part, attempt, delay_ms = delay.as_millis() as u64, reason = %fault.text(), "fetch_part_retry");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(PartError::Fault(fault)) => {
                    return Err(EngineError::Failed {
                        fault,
                        attempts: attempt,
                    });
                }
            }
        }
    }

    /// One attempt at a part. Each chunk is written in place as it
    /// arrives (a short pwrite into the page cache: not worth a blocking
    /// task) and copied into the part's buffer for the hasher. Keeping the
    /// HTTP stack's own chunks instead would save the copy but pin its
    /// larger read buffers: measured, peak RSS went from 82 to 165 MiB.
    async fn fetch_once(&self, part: u64, buffered: bool) -> Result<Option<Vec<u8>>, PartError> {
        let (start, len) = self.plan.range(part);
        let stall = self.plan.stall_timeout;
        let stalled = || Fault::Transient(format!("no data for {} s", stall.as_secs()));
        let request = self
            .remote
            .get_range(start, start + len - 1, self.plan.etag.as_deref());
        let mut body = tokio::time::timeout(stall, request)
            .await
            .map_err(|_| stalled())??;
        let mut buffer = buffered.then(|| self.pool.take(len as usize));
        let mut got = 0u64;
        loop {
            let chunk = match tokio::time::timeout(stall, body.next_chunk()).await {
                Err(_) => return Err(stalled().into()),
                Ok(Err(fault)) => return Err(fault.into()),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            let n = chunk.len() as u64;
            if got + n > len {
                return Err(Fault::Unsupported(format!(
                    "the server sent more than the {len} bytes asked for"
                ))
                .into());
            }
            self.file
                .write_all_at(&chunk, start + got)
                .map_err(PartError::Local)?;
            got += n;
            self.received.fetch_add(n, Ordering::Relaxed);
            // A retried part is counted again: the bar may overshoot
            // briefly, which a person does not mind.
            self.progress.advance(n);
            if let Some(buffer) = buffer.as_mut() {
                buffer.extend_from_slice(&chunk);
            }
        }
        if got < len {
            return Err(Fault::Transient(format!("short body: {got} of {len} bytes")).into());
        }
        start_writeback(&self.file, start, len);
        Ok(buffer)
    }
}

/// Why an attempt failed: the remote side, or our own disk.
enum PartError {
    Fault(Fault),
    Local(std::io::Error),
}

impl From<Fault> for PartError {
    fn from(fault: Fault) -> Self {
        PartError::Fault(fault)
    }
}

/// Part buffers for reuse. Fresh multi-megabyte buffers cost a page fault
/// per 4 KiB on first touch (measured: most of pm's system time beyond
/// curl's); recycled ones are already mapped. The pool never holds more
/// than the window's `concurrency` buffers, since no more exist.
#[derive(Clone, Default)]
struct BufferPool(Arc<std::sync::Mutex<Vec<Vec<u8>>>>);

impl BufferPool {
    fn take(&self, len: usize) -> Vec<u8> {
        let recycled = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut buffer = recycled.unwrap_or_default();
        buffer.clear();
        buffer.reserve_exact(len);
        buffer
    }

    fn put(&self, buffer: Vec<u8>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(buffer);
    }
}

/// Asks the kernel to start writing the part to disk now, without waiting:
/// the fsync before the image is marked ready then has little left to do,
/// and dirty pages never pile up to the whole image.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File, start: u64, len: u64) {
    // SAFETY: a valid open fd; the call only schedules writeback.
    unsafe {
        libc::sync_file_range(
            std::os::fd::AsRawFd::as_raw_fd(file),
            start as libc::off64_t,
            len as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

/// Elsewhere the final fsync does all the writing.
#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File, _start: u64, _len: u64) {}

/// 200 ms, 400 ms, … capped at 10 s, with "equal jitter" (half fixed, half
/// random) so that parts that failed together do not retry together.
pub fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(200).saturating_mul(1 << attempt.min(6).saturating_sub(1));
    let capped = base.min(Duration::from_secs(10));
    let half = capped / 2;
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    half + Duration::from_nanos(random % (half.as_nanos() as u64 + 1))
}

/// The hasher thread: hashes parts strictly in order, from the buffers the
/// tasks send or, for parts fetched ahead without one and parts already on
/// disk before this run, from the file.
fn hash_in_order(
    file: &File,
    plan: &Plan,
    done: &[bool],
    buffers: &std::sync::mpsc::Receiver<(u64, Option<Vec<u8>>)>,
    hashed: &watch::Sender<u64>,
    pool: &BufferPool,
) -> anyhow::Result<[u8; 32]> {
    let mut sha = Sha256::new();
    let mut waiting: BTreeMap<u64, Option<Vec<u8>>> = BTreeMap::new();
    let mut scratch = Vec::new();
    for part in 0..plan.parts() {
        let bytes = if done[part as usize] {
            None
        } else {
            loop {
                if let Some(bytes) = waiting.remove(&part) {
                    break bytes;
                }
                // A closed channel means the download was abandoned.
                let (i, bytes) = buffers
                    .recv()
                    .map_err(|_| anyhow::anyhow!("download stopped before part {part}"))?;
                waiting.insert(i, bytes);
            }
        };
        match bytes {
            Some(bytes) => {
                sha.update(&bytes);
                pool.put(bytes);
            }
            None => {
                let (start, len) = plan.range(part);
                scratch.resize(len as usize, 0);
                file.read_exact_at(&mut scratch, start)?;
                sha.update(&scratch);
            }
        }
        let _ = hashed.send(part + 1);
    }
    Ok(sha.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_object_exactly() {
        let plan = Plan {
            size: 10,
            part_size: 4,
            concurrency: 2,
            retries: 0,
            stall_timeout: Duration::from_secs(1),
            etag: None,
        };
        assert_eq!(plan.parts(), 3);
        assert_eq!(plan.range(0), (0, 4));
        assert_eq!(plan.range(2), (8, 2));
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        assert!(backoff(1) <= Duration::from_millis(200));
        assert!(backoff(3) >= Duration::from_millis(400));
        assert!(backoff(30) <= Duration::from_secs(10));
    }

    #[test]
    fn statuses_classify() {
        assert!(matches!(
            Fault::from_status(500, String::new()),
            Fault::Transient(_)
        ));
        assert!(Fault::from_status(503, String::new()).retryable());
        assert!(matches!(
            Fault::from_status(403, String::new()),
            Fault::Denied { .. }
        ));
        assert!(matches!(
            Fault::from_status(404, String::new()),
            Fault::Missing { .. }
        ));
        assert!(matches!(
            Fault::from_status(412, String::new()),
            Fault::Changed
        ));
    }
}
