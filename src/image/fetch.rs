//! `pm image fetch`: from a source to a verified blob in the store.
//!
//! The order of events is what makes a crash at any moment safe:
//! 1. a source already in the store answers at once (`changed: false`);
//! 2. a per-source download lock (flock under `images/partial/`) makes a
//!    second fetch of the same source wait and then find it in the store,
//!    while fetches of other sources go on in parallel; the state lock is
//!    only taken for the short transitions below, never for the download;
//! 3. HEAD: size (refused above `--max-size` before any GET), ETag, checksum;
//! 4. the `downloads` row and the preallocated partial file are created, or
//!    an interrupted download of the same object (same ETag) is resumed;
//! 5. parts are downloaded and recorded in `download_parts` as they finish,
//!    and marked durable after each periodic fsync of the partial file
//!    (`image.sync_every`), so a resume after a power cut keeps those;
//! 6. the digest is verified (`--sha256`, the store's checksum), the file is
//!    fsynced, renamed into `images/sha256/<hex>` and only then recorded in
//!    `images`, and the `downloads` row is dropped.

use crate::context::Context;
use crate::digest::{Digest, hex};
use crate::error::{PmError, STORE_CHECKSUM, TransientCause};
use crate::image::download::{self, Downloaded, EngineError, Fault, ObjectInfo, Plan, Remote};
use crate::image::source::Source;
use crate::image::store::{ImageRecord, ImageStore};
use crate::lock::{self, Held, Holder, LockGuard};
use crate::output::Render;
use crate::paths::create_private_dir;
use crate::state::{Interrupted, NewDownload, Reader, State};
use anyhow::{Context as _, Result};
use schemars::JsonSchema;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything a fetch is told.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    pub source: String,
    /// Expected digest, `sha256:<hex>` or bare hex.
    pub sha256: Option<String>,
    pub max_size: u64,
    pub part_size: u64,
    pub concurrency: usize,
    /// Free connections take over halves of the last parts.
    pub split_tail: bool,
    pub retries: u32,
    pub stall_timeout: Duration,
    /// Bytes written between fsyncs of the partial file (see `Checkpoints`).
    pub sync_every: u64,
    pub endpoint_url: Option<String>,
    /// Relative local paths are resolved against this.
    pub cwd: PathBuf,
}

/// What `pm image fetch` prints.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FetchReport {
    pub id: String,
    pub digest: Digest,
    pub size: u64,
    pub path: PathBuf,
    pub source: String,
    pub changed: bool,
    pub duration_ms: u64,
    /// Bytes received over the network (or read from a local file) by this run.
    pub bytes_downloaded: u64,
    /// Bytes an interrupted earlier run had already downloaded.
    pub bytes_resumed: u64,
}

impl Render for FetchReport {
    fn human(&self) -> String {
        let what = if self.changed {
            "fetched"
        } else {
            "already present"
        };
        format!(
            "{} {} ({} bytes) {what}\n{}",
            self.id,
            self.digest,
            self.size,
            self.path.display()
        )
    }
}

/// Fetches a source into the store.
pub fn fetch(ctx: &mut Context, options: &FetchOptions) -> Result<FetchReport> {
    let started = Instant::now();
    let source = Source::parse(&options.source, &options.cwd)?;
    let canonical = source.canonical();
    let expected = options.sha256.as_deref().map(parse_sha256).transpose()?;
    let store = ImageStore::new(ctx.paths());
    if let Some(record) = already_fetched(ctx.state()?, &store, &canonical, expected.as_ref())? {
        return Ok(report(record, &canonical, false, started, 0, 0));
    }
    tracing::info!(source = %canonical, "fetch_start");
    let partial_dir = ctx.paths().partial_downloads();
    create_private_dir(&partial_dir)
        .map_err(|e| PmError::io(format!("cannot create {}", partial_dir.display()), e))?;
    let key = source_key(&canonical);
    let download_lock = download_lock(ctx, &partial_dir.join(format!("{key}.lock")), &canonical)?;
    // Whoever held the download lock may just have finished this source.
    if let Some(record) = already_fetched(ctx.state()?, &store, &canonical, expected.as_ref())? {
        return Ok(report(record, &canonical, false, started, 0, 0));
    }
    let partial = partial_dir.join(format!("{key}.part"));
    let result = match &source {
        Source::Local { path } => copy_local(
            ctx,
            options,
            path,
            &partial,
            &canonical,
            &store,
            expected.as_ref(),
        ),
        Source::S3 { .. } | Source::Http { .. } => fetch_remote(
            ctx,
            &Download {
                options,
                source: &source,
                canonical: &canonical,
                store: &store,
                partial: &partial,
                expected: expected.as_ref(),
                lock: &download_lock,
            },
        ),
    };
    match result {
        Ok(done) => {
            tracing::info!(source = %canonical, digest = %done.record.digest, "fetch_complete");
            Ok(report(
                done.record,
                &canonical,
                true,
                started,
                done.bytes_downloaded,
                done.bytes_resumed,
            ))
        }
        Err(e) => {
            // The error itself is printed once, by main; the log keeps the
            // whole chain for -vv.
            tracing::debug!(source = %canonical, error = format!("{e:#}"), "fetch_failed");
            Err(e)
        }
    }
}

/// What `pm image fetch --dry-run` reports: the stored image when the
/// source is already fetched, else what a real run would fetch (its
/// digest, size and path are known only after the download).
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlannedFetch {
    pub id: Option<String>,
    pub digest: Option<Digest>,
    pub size: Option<u64>,
    pub path: Option<PathBuf>,
    pub source: String,
    pub changed: bool,
}

impl Render for PlannedFetch {
    fn human(&self) -> String {
        match (&self.id, self.changed) {
            (Some(id), false) => format!("{id} already present ({})\n", self.source),
            _ => format!("would fetch {}\n", self.source),
        }
    }
}

/// What `fetch` would do, touching nothing: no download, no state, no lock.
pub fn predict(ctx: &mut Context, options: &FetchOptions) -> Result<PlannedFetch> {
    let source = Source::parse(&options.source, &options.cwd)?;
    let canonical = source.canonical();
    let expected = options.sha256.as_deref().map(parse_sha256).transpose()?;
    let store = ImageStore::new(ctx.paths());
    let found = already_fetched(ctx.read_state()?, &store, &canonical, expected.as_ref())?;
    Ok(PlannedFetch {
        changed: found.is_none(),
        id: found.as_ref().map(|r| r.id.clone()),
        digest: found.as_ref().map(|r| r.digest.clone()).or(expected),
        size: found.as_ref().map(|r| r.size),
        path: found.map(|r| r.path),
        source: canonical,
    })
}

/// The per-source download lock: a second fetch of the same source waits
/// for the first (saying for whom), then finds it in the store.
fn download_lock(ctx: &Context, path: &Path, canonical: &str) -> Result<LockGuard> {
    lock::acquire(
        path,
        "the download lock",
        &Holder::this_process(&format!("pm image fetch {canonical}")),
        Duration::MAX,
        |holder| {
            ctx.notice(&format!(
                "waiting for {holder}, which is fetching {canonical}"
            ))
        },
    )
}

/// A local source: copied (and hashed) into the partial file, then
/// verified and recorded like a download; nothing is left on failure.
fn copy_local(
    ctx: &mut Context,
    options: &FetchOptions,
    path: &Path,
    partial: &Path,
    canonical: &str,
    store: &ImageStore,
    expected: Option<&Digest>,
) -> Result<Fetched> {
    fetch_local_cooperatively(ctx, options, path, partial, canonical)
        .and_then(|digest| finish(ctx, store, canonical, partial, &digest, None, expected))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(partial);
        })
        .map(|record| Fetched {
            bytes_downloaded: record.size,
            bytes_resumed: 0,
            record,
        })
}

/// A finished fetch before it is reported.
struct Fetched {
    record: ImageRecord,
    bytes_downloaded: u64,
    bytes_resumed: u64,
}

fn report(
    record: ImageRecord,
    source: &str,
    changed: bool,
    started: Instant,
    bytes_downloaded: u64,
    bytes_resumed: u64,
) -> FetchReport {
    FetchReport {
        id: record.id,
        digest: record.digest,
        size: record.size,
        path: record.path,
        source: source.to_string(),
        changed,
        duration_ms: started.elapsed().as_millis() as u64,
        bytes_downloaded,
        bytes_resumed,
    }
}

/// The stored image for a source, if it is there, whole, and (when a digest
/// is expected) the right one.
fn already_fetched(
    db: &Reader,
    store: &ImageStore,
    source: &str,
    expected: Option<&Digest>,
) -> Result<Option<ImageRecord>> {
    let Some(digest) = db.digest_for_source(source)? else {
        return Ok(None);
    };
    if expected.is_some_and(|e| e != &digest) {
        return Ok(None);
    }
    Ok(store
        .by_digest(db, &digest)?
        .filter(|record| std::fs::metadata(&record.path).is_ok_and(|m| m.len() == record.size)))
}

/// `sha256:<hex>` or `<hex>`.
fn parse_sha256(text: &str) -> Result<Digest> {
    Digest::parse(text).ok_or_else(|| {
        PmError::usage(
            format!("--sha256 {text:?} is not a SHA-256 digest"),
            Some("give 64 hex digits, optionally prefixed with sha256:".to_string()),
        )
        .into()
    })
}

/// A file-name-safe key for a source: the first 32 hex digits of its SHA-256.
pub fn source_key(source: &str) -> String {
    hex(&Sha256::digest(source.as_bytes())[..16])
}

/// The local copy stops at a signal between blocks; a copy is not resumable,
/// so nothing is kept (the caller removes the partial file).
fn fetch_local_cooperatively(
    ctx: &Context,
    options: &FetchOptions,
    path: &Path,
    partial: &Path,
    canonical: &str,
) -> Result<Digest> {
    let _scope = crate::signals::cooperative();
    fetch_local(ctx, options, path, partial).map_err(|e| match e.downcast::<Signalled>() {
        Ok(Signalled(signal)) => interrupted(signal, canonical, None),
        Err(e) => e,
    })
}

/// A signal noticed inside a loop, before it is put in words.
#[derive(Debug, thiserror::Error)]
#[error("interrupted by signal {0}")]
struct Signalled(i32);

/// The `interrupted` error of a fetch; `kept`: parts and bytes a rerun
/// resumes from.
fn interrupted(signal: i32, canonical: &str, kept: Option<(usize, usize, u64)>) -> anyhow::Error {
    let (kept, kept_bytes) = match kept {
        Some((parts, total, bytes)) if parts > 0 => (
            Some(format!(
                "{parts} of {total} parts ({bytes} bytes) of the partial download"
            )),
            Some(bytes),
        ),
        _ => (None, None),
    };
    PmError::Interrupted {
        signal,
        doing: format!("fetching {canonical}"),
        kept,
        kept_bytes,
        resume: Some(crate::signals::rerun_command()),
    }
    .into()
}

/// Copies a local file into the partial file, hashing in the same pass.
fn fetch_local(
    ctx: &Context,
    options: &FetchOptions,
    path: &Path,
    partial: &Path,
) -> Result<Digest> {
    let mut input = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => PmError::not_found(
            format!("file {}", path.display()),
            Some(
                "check the path; remote sources start with s3://, http:// or https://".to_string(),
            ),
        )
        .into(),
        _ => anyhow::Error::from(PmError::io(format!("cannot open {}", path.display()), e)),
    })?;
    let size = input.metadata()?.len();
    if size > options.max_size {
        return Err(PmError::ImageTooLarge {
            source_url: path.display().to_string(),
            size,
            max: options.max_size,
        }
        .into());
    }
    let output = create_partial(partial, size)?;
    let progress = ctx.byte_progress("copying", size);
    let mut sha = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut offset = 0u64;
    loop {
        if let Some(signal) = crate::signals::received() {
            return Err(Signalled(signal).into());
        }
        let n = input.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        sha.update(&buffer[..n]);
        std::os::unix::fs::FileExt::write_all_at(&output, &buffer[..n], offset)?;
        offset += n as u64;
        progress.advance(n as u64);
    }
    progress.finish();
    output.set_len(offset)?;
    output.sync_all()?;
    Ok(Digest::from_bytes(&sha.finalize().into()))
}

/// A fresh partial file of `size` bytes, with its blocks allocated up front
/// so the download cannot run out of space halfway and parts land in place.
fn create_partial(path: &Path, size: u64) -> Result<File> {
    let _ = std::fs::remove_file(path);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| PmError::io(format!("cannot create {}", path.display()), e))?;
    if size > 0 && !preallocate(&file, size) {
        // Some filesystems cannot preallocate; a sparse file still works.
        file.set_len(size)?;
    }
    Ok(file)
}

#[cfg(target_os = "linux")]
fn preallocate(file: &File, size: u64) -> bool {
    // SAFETY: a valid open fd and non-negative offsets.
    let rc = unsafe {
        libc::posix_fallocate(
            std::os::fd::AsRawFd::as_raw_fd(file),
            0,
            size as libc::off_t,
        )
    };
    rc == 0
}

/// macOS has no posix_fallocate; the sparse file will do.
#[cfg(not(target_os = "linux"))]
fn preallocate(_file: &File, _size: u64) -> bool {
    false
}

/// One remote download: what it fetches, where to, and the per-source
/// download lock it runs under (which the bookkeeping thread's writes show).
struct Download<'a> {
    options: &'a FetchOptions,
    source: &'a Source,
    canonical: &'a str,
    store: &'a ImageStore,
    partial: &'a Path,
    expected: Option<&'a Digest>,
    lock: &'a LockGuard,
}

fn fetch_remote(ctx: &mut Context, job: &Download<'_>) -> Result<Fetched> {
    let (options, canonical) = (job.options, job.canonical);
    limit_allocator_caching();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4)))
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let remote = Arc::new(runtime.block_on(connect(job.source, options))?);
    // One restart from zero is allowed when the object changes under us.
    let mut restarted = false;
    loop {
        let info = head_within_limits(&runtime, &remote, options, canonical)?;
        let claim = claim_download(ctx, job, &info)?;
        let bytes_resumed = claim.resumed_bytes();
        let resumed_parts: Vec<u64> = (0..claim.done.len() as u64)
            .filter(|&i| claim.done[i as usize])
            .collect();
        let part_size = claim.part_size;
        let total_parts = info.size.div_ceil(part_size) as usize;
        let part_len = |part: u64| part_size.min(info.size - part * part_size);
        let (outcome, ledger_result) = download_parts(ctx, job, &runtime, &remote, &info, claim)?;
        // What a rerun resumes from: earlier runs' parts and this run's.
        let kept = || {
            let recorded = ledger_result.as_deref().unwrap_or_default();
            let parts = resumed_parts.len() + recorded.len();
            let bytes = resumed_parts
                .iter()
                .chain(recorded)
                .map(|&p| part_len(p))
                .sum();
            (parts, total_parts, bytes)
        };
        match outcome {
            Ok(downloaded) => {
                ledger_result?;
                let record = verified_record(ctx, job, &info, &downloaded)?;
                return Ok(Fetched {
                    record,
                    bytes_downloaded: downloaded.bytes_received,
                    bytes_resumed,
                });
            }
            Err(EngineError::Changed) if !restarted => {
                ctx.notice(&format!(
                    "{canonical} changed during the download (its ETag no longer matches); starting over from zero"
                ));
                discard_download(ctx, canonical, job.partial)?;
                restarted = true;
            }
            Err(EngineError::Changed) => {
                discard_download(ctx, canonical, job.partial)?;
                return Err(PmError::ObjectChanged {
                    source_url: canonical.to_string(),
                }
                .into());
            }
            Err(EngineError::Failed { fault, attempts }) => {
                return Err(fault_error(canonical, fault, attempts, kept().2));
            }
            Err(EngineError::Interrupted(signal)) => {
                return Err(interrupted(signal, canonical, Some(kept())));
            }
            Err(EngineError::Local(e)) => return Err(e),
        }
    }
}

/// HEAD (with its retries, stopped by a signal), and the size limit
/// applied before any GET.
fn head_within_limits(
    runtime: &tokio::runtime::Runtime,
    remote: &Remote,
    options: &FetchOptions,
    canonical: &str,
) -> Result<ObjectInfo> {
    let info = {
        let _scope = crate::signals::cooperative();
        runtime.block_on(async {
            tokio::select! {
                info = head_with_retries(remote, options, canonical) => info,
                signal = crate::signals::cancelled() => Err(interrupted(signal, canonical, None)),
            }
        })?
    };
    if info.size > options.max_size {
        return Err(PmError::ImageTooLarge {
            source_url: canonical.to_string(),
            size: info.size,
            max: options.max_size,
        }
        .into());
    }
    Ok(info)
}

/// A finished download checked against `--sha256` and the store's checksum,
/// moved into the store and recorded; a mismatch discards it.
fn verified_record(
    ctx: &mut Context,
    job: &Download<'_>,
    info: &ObjectInfo,
    downloaded: &Downloaded,
) -> Result<ImageRecord> {
    let canonical = job.canonical;
    let digest = Digest::from_bytes(&downloaded.sha256);
    let store_sum = info.sha256.as_deref().map(|s| (s, STORE_CHECKSUM));
    let record = verify(canonical, &digest, job.expected, store_sum).and_then(|()| {
        finish(
            ctx,
            job.store,
            canonical,
            job.partial,
            &digest,
            info.etag.as_deref(),
            None,
        )
    });
    if record.is_err() {
        discard_download(ctx, canonical, job.partial)?;
    }
    record
}

/// What the part engine and the bookkeeping beside it ended with (the
/// parts the bookkeeping recorded).
type PartsOutcome = (
    std::result::Result<Downloaded, EngineError>,
    Result<Vec<u64>>,
);

/// Runs the part engine with the bookkeeping thread beside it.
fn download_parts(
    ctx: &Context,
    job: &Download<'_>,
    runtime: &tokio::runtime::Runtime,
    remote: &Arc<Remote>,
    info: &ObjectInfo,
    claim: Claim,
) -> Result<PartsOutcome> {
    let checkpoints = Checkpoints {
        file: claim.file.try_clone()?,
        size: info.size,
        part_size: claim.part_size,
        every: job.options.sync_every,
    };
    let progress: Arc<dyn crate::progress::Progress> =
        Arc::from(ctx.byte_progress("fetching", info.size));
    progress.advance(claim.resumed_bytes());
    let plan = Plan {
        size: info.size,
        part_size: claim.part_size,
        concurrency: job.options.concurrency.max(1),
        retries: job.options.retries,
        stall_timeout: job.options.stall_timeout,
        etag: info.etag.clone(),
        split_tail: job.options.split_tail,
    };
    let (finished_tx, finished_rx) = std::sync::mpsc::channel::<u64>();
    let state_path = ctx.paths().state().to_path_buf();
    let results = std::thread::scope(|scope| {
        let ledger = std::thread::Builder::new()
            .name("pm-ledger".to_string())
            .spawn_scoped(scope, || {
                record_parts(&state_path, job, checkpoints, finished_rx)
            })?;
        let outcome = {
            let _scope = crate::signals::cooperative();
            runtime.block_on(download::download(
                remote.clone(),
                Arc::new(claim.file),
                plan,
                claim.done,
                finished_tx,
                progress.clone(),
            ))
        };
        // The ledger ends when the engine's senders are gone, having
        // recorded every part that finished, even after a signal.
        let ledger_result = ledger
            .join()
            .map_err(|_| anyhow::anyhow!("the download bookkeeping thread panicked"))?;
        Ok::<_, anyhow::Error>((outcome, ledger_result))
    })?;
    progress.finish();
    Ok(results)
}

/// Part buffers are megabytes each and freed as soon as they are hashed.
/// glibc would raise its mmap threshold after the first free and then keep
/// freed buffers cached in per-thread arenas, growing the RSS well past
/// concurrency × part size; a fixed threshold returns them at once.
fn limit_allocator_caching() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called before the
    // download threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

async fn connect(source: &Source, options: &FetchOptions) -> Result<Remote> {
    Ok(match source {
        Source::S3 { bucket, key } => Remote::S3(
            crate::image::s3::S3Object::connect(bucket, key, options.endpoint_url.as_deref())
                .await?,
        ),
        Source::Http { url } => {
            Remote::Http(Box::new(crate::image::http::HttpObject::connect(url)?))
        }
        Source::Local { .. } => unreachable!("local sources are copied, not downloaded"),
    })
}

async fn head_with_retries(
    remote: &Remote,
    options: &FetchOptions,
    canonical: &str,
) -> Result<ObjectInfo> {
    let mut attempt = 1;
    loop {
        let outcome = tokio::time::timeout(options.stall_timeout, remote.head())
            .await
            .unwrap_or_else(|_| Err(Fault::Transient("HEAD timed out".to_string())));
        match outcome {
            Ok(info) => return Ok(info),
            Err(fault) if fault.retryable() && attempt <= options.retries => {
                tracing::info!(attempt, reason = %fault.text(), "fetch_head_retry");
                tokio::time::sleep(download::backoff(attempt)).await;
                attempt += 1;
            }
            Err(fault) => return Err(fault_error(canonical, fault, attempt, 0)),
        }
    }
}

/// Turns a permanent (or retried-out) fault into the error the operator
/// sees. `kept_bytes`: finished parts a rerun resumes from.
fn fault_error(canonical: &str, fault: Fault, attempts: u32, kept_bytes: u64) -> anyhow::Error {
    let source_url = canonical.to_string();
    let transient = |last: String, cause: TransientCause| PmError::FetchTransient {
        source_url: source_url.clone(),
        attempts,
        last,
        cause,
        kept_bytes,
    };
    match fault {
        Fault::Transient(last) => transient(last, TransientCause::Other).into(),
        Fault::Unreachable(last) => transient(last, TransientCause::Unreachable).into(),
        Fault::Throttled(last) => transient(last, TransientCause::Throttled).into(),
        Fault::Denied { reason, hint } => PmError::FetchDenied {
            source_url,
            reason,
            hint,
        }
        .into(),
        Fault::Missing { what, hint } => PmError::not_found(what, Some(hint)).into(),
        Fault::Changed => PmError::ObjectChanged { source_url }.into(),
        Fault::Tls(reason) => PmError::FetchUnsupported {
            source_url,
            reason,
            hint: Some(
                "if the certificate is right, trust its CA (add it to the system store or point SSL_CERT_FILE at it); otherwise check the URL's host name".to_string(),
            ),
        }
        .into(),
        Fault::Unsupported(reason) => PmError::FetchUnsupported {
            source_url,
            reason,
            hint: None,
        }
        .into(),
    }
}

/// The partial file a download writes into, and which parts it already has.
struct Claim {
    file: File,
    part_size: u64,
    done: Vec<bool>,
}

impl Claim {
    fn resumed_bytes(&self) -> u64 {
        let size = self.file.metadata().map_or(0, |m| m.len());
        (0..self.done.len() as u64)
            .filter(|&i| self.done[i as usize])
            .map(|i| self.part_size.min(size - i * self.part_size))
            .sum()
    }
}

/// Resumes the interrupted download of the same object, or starts afresh
/// (saying why when an interrupted one is thrown away).
fn claim_download(ctx: &mut Context, job: &Download<'_>, info: &ObjectInfo) -> Result<Claim> {
    let (canonical, partial) = (job.canonical, job.partial);
    let previous = ctx.state()?.interrupted_download(canonical)?;
    if let Some(previous) = previous {
        let file_ok = std::fs::metadata(partial).is_ok_and(|m| m.len() == info.size);
        if previous.etag == info.etag && previous.size == info.size && file_ok {
            let same_boot = previous.boot_id.is_some() && previous.boot_id == boot_id();
            let done = done_parts(ctx.state()?, canonical, &previous, same_boot)?;
            let file = OpenOptions::new().read(true).write(true).open(partial)?;
            let count = done.iter().filter(|d| **d).count();
            if count > 0 {
                ctx.notice(&format!(
                    "resuming {canonical}: {count} of {} parts already downloaded",
                    done.len()
                ));
            }
            return Ok(Claim {
                file,
                part_size: previous.part_size,
                done,
            });
        }
        if previous.etag != info.etag {
            ctx.notice(&format!(
                "{canonical} changed since the interrupted download (ETag {} → {}); starting over",
                previous.etag.as_deref().unwrap_or("none"),
                info.etag.as_deref().unwrap_or("none")
            ));
        }
    }
    let part_size = job.options.part_size.max(64 << 10);
    let lock = ctx.lock()?;
    let file = create_partial(partial, info.size)?;
    let boot = boot_id();
    ctx.state()?.write(&lock, |tx| {
        tx.start_download(&NewDownload {
            source: canonical,
            etag: info.etag.as_deref(),
            size: info.size,
            part_size,
            partial_path: partial,
            boot_id: boot.as_deref(),
        })
    })?;
    Ok(Claim {
        file,
        part_size,
        done: vec![false; info.size.div_ceil(part_size) as usize],
    })
}

/// Parts recorded as written. They all survive a kill -9 (the page cache
/// keeps them) but not necessarily a power cut: after a reboot only the parts
/// written before the last fsync can be trusted, the `durable` ones.
fn done_parts(
    db: &Reader,
    canonical: &str,
    previous: &Interrupted,
    same_boot: bool,
) -> Result<Vec<bool>> {
    let parts = previous.size.div_ceil(previous.part_size) as usize;
    let mut done = vec![false; parts];
    for part in db.done_parts(canonical, same_boot)? {
        if let Some(slot) = usize::try_from(part).ok().and_then(|i| done.get_mut(i)) {
            *slot = true;
        }
    }
    Ok(done)
}

/// This boot's id (see `done_parts`).
fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
}

/// When the ledger fsyncs the partial file. Syncing every part would halve
/// the speed; syncing every `every` bytes bounds what a power cut can cost a
/// resume, and the writeback it starts early is writeback the final fsync
/// no longer waits for.
struct Checkpoints {
    file: File,
    size: u64,
    part_size: u64,
    every: u64,
}

impl Checkpoints {
    fn part_len(&self, part: u64) -> u64 {
        self.part_size
            .min(self.size.saturating_sub(part * self.part_size))
    }
}

/// The bookkeeping thread: records each finished part in its own
/// transaction (so a SIGKILL loses only parts in flight) on its own
/// connection, off the download's path, and marks parts durable after each
/// checkpoint fsync (so a power cut loses only what came after it). It
/// writes under the download lock the fetch holds for this source.
fn record_parts(
    state_path: &Path,
    job: &Download<'_>,
    checkpoints: Checkpoints,
    finished: std::sync::mpsc::Receiver<u64>,
) -> Result<Vec<u64>> {
    let source = job.canonical;
    let held: &dyn Held = job.lock;
    let mut state = State::open(state_path)?;
    let mut recorded = Vec::new();
    let mut unsynced: Vec<u64> = Vec::new();
    let mut unsynced_bytes = 0u64;
    for part in finished {
        state.write(held, |tx| tx.record_part(source, part))?;
        crate::failpoint::hit("fetch_part_recorded");
        recorded.push(part);
        unsynced.push(part);
        unsynced_bytes += checkpoints.part_len(part);
        if unsynced_bytes >= checkpoints.every {
            // Every part in `unsynced` was written before this sync
            // began, so the sync covers it.
            checkpoints.file.sync_data()?;
            state.write(held, |tx| tx.mark_parts_durable(source, &unsynced))?;
            tracing::debug!(parts = unsynced.len(), "fetch_checkpoint_complete");
            unsynced.clear();
            unsynced_bytes = 0;
        }
    }
    Ok(recorded)
}

/// Checks the digest against what the operator or the store expects.
fn verify(
    canonical: &str,
    actual: &Digest,
    expected: Option<&Digest>,
    store_sum: Option<(&str, &'static str)>,
) -> Result<()> {
    let store_sum = store_sum.map(|(hex, from)| (Digest::parse(hex), from));
    let wanted = expected
        .map(|e| (Some(e.clone()), "--sha256"))
        .into_iter()
        .chain(store_sum);
    for (digest, from) in wanted {
        if digest.as_ref() != Some(actual) {
            return Err(PmError::DigestMismatch {
                source_url: canonical.to_string(),
                expected: digest.map_or_else(|| "(unreadable)".to_string(), |d| d.to_string()),
                actual: actual.to_string(),
                from,
            }
            .into());
        }
    }
    Ok(())
}

/// Verified: fsync, rename into the store, and record it as ready, all
/// under the state lock so `gc` never sees a renamed but unrecorded blob.
fn finish(
    ctx: &mut Context,
    store: &ImageStore,
    canonical: &str,
    partial: &Path,
    digest: &Digest,
    etag: Option<&str>,
    expected: Option<&Digest>,
) -> Result<ImageRecord> {
    verify(canonical, digest, expected, None)?;
    File::open(partial)?.sync_all()?;
    let blob = store.blob_path(digest);
    let root = store.root();
    let blob_dir = blob.parent().unwrap_or(&root);
    create_private_dir(blob_dir)
        .map_err(|e| PmError::io(format!("cannot create {}", blob_dir.display()), e))?;
    let size = std::fs::metadata(partial)?.len();
    let lock = ctx.lock()?;
    if std::fs::metadata(&blob).is_ok_and(|m| m.len() == size) {
        // The same content came from another source: keep the one copy.
        std::fs::remove_file(partial)?;
    } else {
        std::fs::rename(partial, &blob).map_err(|e| {
            PmError::io(format!("cannot move the image into {}", blob.display()), e)
        })?;
    }
    File::open(blob_dir)?.sync_all()?;
    crate::failpoint::hit("fetch_before_record");
    let state = ctx.state()?;
    let record = store.record_ready(state, &lock, digest, size, canonical, etag)?;
    state.write(&lock, |tx| tx.forget_download(canonical))?;
    Ok(record)
}

/// Forgets an interrupted or failed download and removes its partial file.
fn discard_download(ctx: &mut Context, canonical: &str, partial: &Path) -> Result<()> {
    let lock = ctx.lock()?;
    let _ = std::fs::remove_file(partial);
    ctx.state()?
        .write(&lock, |tx| tx.forget_download(canonical))
}
