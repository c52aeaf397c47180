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
//!
//! Once every part has started, a connection that finishes its piece takes the
//! second half of what the part with the most left still lacks, so the
//! download ends when the link has carried the last byte, not when the
//! slowest connection has. A part so split is read back by the hasher too.

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
    /// At the end, free connections take over halves of the last parts
    /// (see `take_over_half`).
    pub split_tail: bool,
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
    let job = Arc::new(PartJob {
        pool,
        remote,
        file,
        plan: plan.clone(),
        received: received.clone(),
        progress,
        finished,
        buffers: buffers_tx,
    });
    let window = plan.concurrency as u64;
    let lookahead = window * LOOKAHEAD_WINDOWS;
    let mut tasks = JoinSet::new();
    let mut in_flight: Vec<Arc<Part>> = Vec::new();
    let mut failure = None;
    // A signal stops the download between chunks: the parts in flight are
    // dropped unrecorded, as a crash would drop them.
    let cancelled = crate::signals::cancelled();
    tokio::pin!(cancelled);
    'parts: for index in (0..plan.parts()).filter(|&i| !done[i as usize]) {
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
            if tasks.len() < plan.concurrency && index < hashed + lookahead {
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
        let buffered = index < *hashed_rx.borrow() + window;
        let part = Arc::new(Part::new(index, plan.range(index)));
        in_flight.retain(|part| !part.is_finished());
        in_flight.push(part.clone());
        tasks.spawn(job.clone().run_piece(part, 0, buffered));
    }
    if failure.is_none() {
        failure = finish_in_flight(&job, &mut tasks, in_flight, cancelled).await;
    }
    tasks.abort_all();
    drop(job);
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

/// Every part has started: waits for the ones in flight, and from now on
/// each connection that comes free takes half of what another still has to
/// fetch. Only a connection that finished its piece does: connections a
/// small object never needed stay unused, so a one-part image is still one
/// GET. The first failure, if any.
async fn finish_in_flight(
    job: &Arc<PartJob>,
    tasks: &mut JoinSet<Result<(), EngineError>>,
    mut in_flight: Vec<Arc<Part>>,
    mut cancelled: std::pin::Pin<&mut impl std::future::Future<Output = i32>>,
) -> Option<EngineError> {
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                None => return None,
                Some(joined) => {
                    if let Err(e) = flatten(joined) {
                        return Some(e);
                    }
                    if job.plan.split_tail {
                        take_over_half(job, tasks, &mut in_flight);
                    }
                }
            },
            signal = &mut cancelled => return Some(EngineError::Interrupted(signal)),
        }
    }
}

/// The smallest piece a split makes, as a fraction of the part size: a
/// split costs a request and closes the connection it shortens, which
/// only pays off for a piece that still takes a while.
const MIN_PIECE_DIVISOR: u64 = 8;

/// The end of a download. When the connections do not all run at one
/// speed, the last parts finish up to a part's time apart, the slowest
/// connection working while the others idle. A connection that comes free
/// takes the second half of what the piece with the most left still has to
/// go, as long as both halves are at least an eighth of a part. Measured on
/// scripts/bench/fetch.sh's shaped link with one per-connection class in
/// six slowed to 8 MB/s: a median of 204 MB/s against 162 MB/s without
/// (six rounds of 1 GiB each; which connections land in a slow class is
/// left to chance, so single rounds range widely); where every connection
/// gets the same rate it changes nothing (297–298 MB/s either way).
fn take_over_half(
    job: &Arc<PartJob>,
    tasks: &mut JoinSet<Result<(), EngineError>>,
    in_flight: &mut Vec<Arc<Part>>,
) {
    in_flight.retain(|part| !part.is_finished());
    let min_piece = (job.plan.part_size / MIN_PIECE_DIVISOR).max(1);
    let Some(busiest) = in_flight.iter().max_by_key(|part| part.most_left()) else {
        return;
    };
    let Some(piece) = busiest.split(min_piece) else {
        return;
    };
    tracing::debug!(
        part = busiest.index,
        piece,
        in_flight = tasks.len(),
        "fetch_tail_takeover"
    );
    tasks.spawn(job.clone().run_piece(busiest.clone(), piece, false));
}

fn flatten(
    joined: Result<Result<(), EngineError>, tokio::task::JoinError>,
) -> Result<(), EngineError> {
    joined.map_err(|e| EngineError::Local(anyhow::anyhow!("a download task failed: {e}")))?
}

/// A part in flight and the pieces it is fetched as. A part starts as one
/// piece on one connection; at the end of a download, other connections
/// may take over parts of it ([`Part::split`]). It is finished, recorded
/// and hashed when its last piece is.
struct Part {
    index: u64,
    len: u64,
    pieces: std::sync::Mutex<Pieces>,
}

struct Pieces {
    ranges: Vec<Piece>,
    /// Pieces not finished yet.
    open: usize,
}

/// A byte range of a part, `start..end`, written up to `next`.
#[derive(Clone, Copy)]
struct Piece {
    start: u64,
    next: u64,
    /// Lowered when another connection takes over the rest.
    end: u64,
}

impl Piece {
    fn left(&self) -> u64 {
        self.end.saturating_sub(self.next)
    }
}

impl Part {
    fn new(index: u64, (start, len): (u64, u64)) -> Part {
        let whole = Piece {
            start,
            next: start,
            end: start + len,
        };
        Part {
            index,
            len,
            pieces: std::sync::Mutex::new(Pieces {
                ranges: vec![whole],
                open: 1,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pieces> {
        self.pieces.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts (or, after a failed attempt, restarts) a piece from its first
    /// byte: the range to ask for.
    fn restart(&self, piece: usize) -> (u64, u64) {
        let mut pieces = self.lock();
        let p = &mut pieces.ranges[piece];
        p.next = p.start;
        (p.start, p.end)
    }

    /// Takes `n` received bytes for a piece: the offset they go to and how
    /// many of them are still the piece's (fewer once it was split).
    fn claim(&self, piece: usize, n: u64) -> (u64, u64) {
        let mut pieces = self.lock();
        let p = &mut pieces.ranges[piece];
        let mine = n.min(p.left());
        let at = p.next;
        p.next += mine;
        (at, mine)
    }

    /// The bytes a piece still lacks and the end it has now.
    fn remaining(&self, piece: usize) -> (u64, u64) {
        let p = self.lock().ranges[piece];
        (p.left(), p.end)
    }

    fn most_left(&self) -> u64 {
        self.lock()
            .ranges
            .iter()
            .map(Piece::left)
            .max()
            .unwrap_or(0)
    }

    /// Moves the second half of what the piece with the most left lacks
    /// into a new piece, when both halves are at least `min` bytes.
    fn split(&self, min: u64) -> Option<usize> {
        let mut pieces = self.lock();
        let (busiest, left) = pieces
            .ranges
            .iter()
            .map(Piece::left)
            .enumerate()
            .max_by_key(|&(_, left)| left)?;
        if left < 2 * min {
            return None;
        }
        let p = &mut pieces.ranges[busiest];
        let middle = p.next + left / 2;
        let taken = Piece {
            start: middle,
            next: middle,
            end: p.end,
        };
        p.end = middle;
        pieces.ranges.push(taken);
        pieces.open += 1;
        Some(pieces.ranges.len() - 1)
    }

    /// Marks one piece finished; true when it was the part's last.
    fn finish_piece(&self) -> bool {
        let mut pieces = self.lock();
        pieces.open -= 1;
        pieces.open == 0
    }

    fn is_finished(&self) -> bool {
        self.lock().open == 0
    }

    fn was_split(&self) -> bool {
        self.lock().ranges.len() > 1
    }
}

/// Everything a piece's task needs.
struct PartJob {
    pool: BufferPool,
    remote: Arc<Remote>,
    file: Arc<File>,
    plan: Arc<Plan>,
    received: Arc<AtomicU64>,
    progress: Arc<dyn Progress>,
    /// Told each part's index once its bytes are written.
    finished: std::sync::mpsc::Sender<u64>,
    /// The hasher's input: each finished part, with its bytes when kept.
    buffers: std::sync::mpsc::Sender<(u64, Option<Vec<u8>>)>,
}

impl PartJob {
    /// Fetches one piece of a part and, when it was the part's last one,
    /// hands the part on. Only a part fetched whole by one connection
    /// hands its bytes to the hasher; a split part is read back.
    async fn run_piece(
        self: Arc<Self>,
        part: Arc<Part>,
        piece: usize,
        buffered: bool,
    ) -> Result<(), EngineError> {
        let mut buffer = buffered.then(|| self.pool.take(part.len as usize));
        self.fetch_with_retries(&part, piece, &mut buffer).await?;
        if !part.finish_piece() {
            if let Some(b) = buffer {
                self.pool.put(b);
            }
            return Ok(());
        }
        let bytes = match buffer {
            Some(b) if part.was_split() => {
                self.pool.put(b);
                None
            }
            kept => kept,
        };
        let _ = self.finished.send(part.index);
        let _ = self.buffers.send((part.index, bytes));
        Ok(())
    }

    async fn fetch_with_retries(
        &self,
        part: &Part,
        piece: usize,
        buffer: &mut Option<Vec<u8>>,
    ) -> Result<(), EngineError> {
        let attempts = self.plan.retries + 1;
        let mut attempt = 1;
        loop {
            match self.fetch_once(part, piece, buffer).await {
                Ok(()) => return Ok(()),
                Err(PartError::Local(e)) => {
                    return Err(EngineError::Local(
                        anyhow::Error::new(e).context("writing the partial file"),
                    ));
                }
                Err(PartError::Fault(Fault::Changed)) => return Err(EngineError::Changed),
                Err(PartError::Fault(fault)) if fault.retryable() && attempt < attempts => {
                    let delay = backoff(attempt);
                    tracing::info!(part = part.index, piece, attempt, delay_ms = delay.as_millis() as u64, reason = %fault.text(), "fetch_part_retry");
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

    /// One attempt at a piece. Each chunk is written in place as it
    /// arrives (a short pwrite into the page cache: not worth a blocking
    /// task) and copied into the part's buffer for the hasher. Keeping the
    /// HTTP stack's own chunks instead would save the copy but pin its
    /// larger read buffers: measured, peak RSS went from 82 to 165 MiB.
    /// A piece that another connection took the rest of stops reading
    /// where that rest begins, which closes its connection.
    async fn fetch_once(
        &self,
        part: &Part,
        piece: usize,
        buffer: &mut Option<Vec<u8>>,
    ) -> Result<(), PartError> {
        let (start, end) = part.restart(piece);
        if let Some(buffer) = buffer.as_mut() {
            buffer.clear();
        }
        let asked = end - start;
        let stall = self.plan.stall_timeout;
        let stalled = || Fault::Transient(format!("no data for {} s", stall.as_secs()));
        let request = self
            .remote
            .get_range(start, end - 1, self.plan.etag.as_deref());
        let mut body = tokio::time::timeout(stall, request)
            .await
            .map_err(|_| stalled())??;
        let mut got = 0u64;
        loop {
            let chunk = match tokio::time::timeout(stall, body.next_chunk()).await {
                Err(_) => return Err(stalled().into()),
                Ok(Err(fault)) => return Err(fault.into()),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            let n = chunk.len() as u64;
            if got + n > asked {
                return Err(Fault::Unsupported(format!(
                    "the server sent more than the {asked} bytes asked for"
                ))
                .into());
            }
            got += n;
            self.received.fetch_add(n, Ordering::Relaxed);
            let (at, mine) = part.claim(piece, n);
            let mine = &chunk[..mine as usize];
            self.file.write_all_at(mine, at).map_err(PartError::Local)?;
            self.progress.advance(mine.len() as u64);
            if let Some(buffer) = buffer.as_mut() {
                buffer.extend_from_slice(mine);
            }
            let (left, now_ends) = part.remaining(piece);
            if left == 0 && now_ends < end {
                break; // the rest is another connection's now
            }
        }
        let (left, now_ends) = part.remaining(piece);
        if left > 0 {
            return Err(Fault::Transient(format!("short body: {got} of {asked} bytes")).into());
        }
        start_writeback(&self.file, start, now_ends - start);
        Ok(())
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

/// Asks the kernel to start writing a piece to disk now, without waiting:
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
            split_tail: true,
        };
        assert_eq!(plan.parts(), 3);
        assert_eq!(plan.range(0), (0, 4));
        assert_eq!(plan.range(2), (8, 2));
    }

    #[test]
    fn a_split_takes_the_second_half_of_what_is_left() {
        let part = Part::new(3, (1000, 100));
        assert_eq!(part.restart(0), (1000, 1100));
        assert_eq!(part.claim(0, 20), (1000, 20));
        // 80 left: both halves must be at least `min`.
        assert_eq!(part.split(41), None);
        assert_eq!(part.split(40), Some(1));
        assert_eq!(part.restart(1), (1060, 1100));
        // The first piece now ends where the taken half begins: a chunk
        // that runs past it is cut, and the rest is not its own.
        assert_eq!(part.claim(0, 50), (1020, 40));
        assert_eq!(part.remaining(0), (0, 1060));
        assert_eq!(part.most_left(), 40);
        assert!(part.was_split());
        assert!(!part.finish_piece(), "one piece is still open");
        assert_eq!(part.claim(1, 40), (1060, 40));
        assert!(part.finish_piece(), "the last piece finishes the part");
        assert!(part.is_finished());
    }

    #[test]
    fn a_restarted_piece_keeps_its_shortened_end() {
        let part = Part::new(0, (0, 64));
        part.claim(0, 16);
        assert_eq!(part.split(8), Some(1)); // 48 left: the split is at 16 + 24
        assert_eq!(part.restart(0), (0, 40));
        assert_eq!(part.most_left(), 40);
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
