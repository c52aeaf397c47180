//! `pm image fetch|list|show|rm|gc`: images in the content-addressed store.

use crate::config::key;
use crate::context::Context;
use crate::digest::Digest;
use crate::error::PmError;
use crate::image::fetch::{FetchOptions, fetch};
use crate::image::store::{ImageRecord, ImageStore};
use crate::image::validate::{ValidationRecord, validation_for};
use crate::output::{Outcome, Render};
use crate::pool::{ActivationRecord, list_activations};
use crate::schema::Output;
use anyhow::Result;
use clap::{Args, Subcommand};
use clap_complete::engine::ArgValueCompleter;
use schemars::JsonSchema;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ImageArgs {
    #[command(subcommand)]
    pub verb: ImageVerb,
}

#[derive(Debug, Subcommand)]
pub enum ImageVerb {
    // --- fetch, list, show, rm, gc ---
    /// Download an image into the store: s3://BUCKET/KEY, http(s)://URL or a local path
    Fetch(FetchArgs),
    /// List the images in the store, newest first
    List {
        /// Only images fetched from a source containing this text
        #[arg(long, value_name = "TEXT")]
        source: Option<String>,
    },
    /// Show one image: id, digest, size, path, sources, verdict, activations
    Show {
        /// Short id, digest (prefix), source, or `-` for a previous pm command's JSON
        #[arg(add = ArgValueCompleter::new(crate::complete::image_refs))]
        image: String,
    },
    /// List activations (both backends): name, image, backend, device or path, created
    Activations {
        /// Only the activations of this image (short id, digest or source)
        #[arg(long, value_name = "IMAGE", add = ArgValueCompleter::new(crate::complete::image_refs))]
        image: Option<String>,
    },
    /// Remove an image from the store (refused while something uses it)
    Rm {
        /// Short id, digest (prefix), source, or `-` for a previous pm command's JSON
        #[arg(add = ArgValueCompleter::new(crate::complete::image_refs))]
        image: String,
        /// Remove it even if something still uses it
        #[arg(long)]
        force: bool,
    },
    /// Remove interrupted downloads older than a threshold and unreferenced blobs
    Gc {
        /// Age beyond which an interrupted download is removed [config: image.gc_partial_age]
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        older_than: Option<Duration>,
    },
    // --- end fetch, list, show, rm, gc ---
    /// Check an image as hostile input, in one streaming pass; list every violation
    Validate(validate::ValidateArgs),
    /// Make a validated image usable: a thin snapshot (or a directory copy) of its base volume
    Activate(super::activation::ActivateArgs),
    /// Remove an activation's snapshot or copy
    Deactivate(super::activation::DeactivateArgs),
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// s3://BUCKET/KEY, https://…, http://… or a local path
    pub source: String,
    /// Expected digest (sha256:HEX or HEX); a mismatch discards the download
    #[arg(long, value_name = "DIGEST")]
    pub sha256: Option<String>,
    /// Refuse objects larger than this (e.g. 8GiB) [config: image.max_size]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_size: Option<u64>,
    /// S3 endpoint of an S3-compatible store; path-style [config: image.endpoint_url, env: AWS_ENDPOINT_URL]
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Size of each ranged GET [config: image.part_size]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub part_size: Option<u64>,
    /// Parallel ranged GETs [config: image.concurrency]
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
}

impl ImageVerb {
    pub fn name(&self) -> &'static str {
        match self {
            ImageVerb::Fetch(_) => "fetch",
            ImageVerb::List { .. } => "list",
            ImageVerb::Show { .. } => "show",
            ImageVerb::Activations { .. } => "activations",
            ImageVerb::Rm { .. } => "rm",
            ImageVerb::Gc { .. } => "gc",
            ImageVerb::Validate(_) => "validate",
            ImageVerb::Activate(_) => "activate",
            ImageVerb::Deactivate(_) => "deactivate",
        }
    }

    pub fn is_mutating(&self) -> bool {
        matches!(
            self,
            ImageVerb::Fetch(_)
                | ImageVerb::Rm { .. }
                | ImageVerb::Gc { .. }
                // validate records the verdict on a stored image
                | ImageVerb::Validate(_)
                | ImageVerb::Activate(_)
                | ImageVerb::Deactivate(_)
        )
    }
}

/// What each verb prints, for `pm schema`.
pub fn outputs() -> Vec<Output> {
    use crate::image::{fetch::FetchReport, fetch::PlannedFetch, gc::GcReport};
    use crate::pool::{Activated, Deactivated, PlannedActivation};
    vec![
        Output::mutating::<FetchReport>("image fetch").planned::<PlannedFetch>(),
        Output::mutating::<validate::Validated>("image validate"),
        Output::mutating::<Activated>("image activate").planned::<PlannedActivation>(),
        Output::mutating::<Deactivated>("image deactivate"),
        Output::read_only::<Activations>("image activations"),
        Output::read_only::<ImageList>("image list"),
        Output::read_only::<ImageShow>("image show"),
        Output::mutating::<Removed>("image rm"),
        Output::mutating::<GcReport>("image gc"),
    ]
}

pub fn run(args: ImageArgs, ctx: &mut Context) -> Result<Outcome> {
    match args.verb {
        ImageVerb::Fetch(fetch_args) => {
            let options = fetch_options(&fetch_args, ctx)?;
            if ctx.dry_run {
                return Outcome::of(&crate::image::fetch::predict(ctx, &options)?);
            }
            Outcome::of(&fetch(ctx, &options)?)
        }
        ImageVerb::List { source } => {
            let store = store(ctx);
            let images = store
                .list(ctx.read_state()?)?
                .into_iter()
                .filter(|i| {
                    source
                        .as_deref()
                        .is_none_or(|s| i.sources.iter().any(|src| src.contains(s)))
                })
                .collect();
            Outcome::of(&ImageList { images })
        }
        ImageVerb::Show { image } => {
            let reference = image_reference(&image)?;
            Outcome::of(&show(ctx, &reference)?)
        }
        ImageVerb::Activations { image } => Outcome::of(&activations(ctx, image.as_deref())?),
        ImageVerb::Rm { image, force } => {
            let reference = image_reference(&image)?;
            Outcome::of(&remove(ctx, &reference, force)?)
        }
        ImageVerb::Gc { older_than } => {
            let age = match older_than {
                Some(age) => age,
                None => {
                    parse_duration(ctx.config.string(key::IMAGE_GC_PARTIAL_AGE)).map_err(|e| {
                        PmError::usage(
                            format!("image.gc_partial_age: {e}"),
                            Some("use a duration such as 24h or 7d".to_string()),
                        )
                    })?
                }
            };
            Outcome::of(&crate::image::gc::collect(ctx, age)?)
        }
        ImageVerb::Validate(args) => validate::run(args, ctx),
        ImageVerb::Activate(args) => super::activation::activate(args, ctx),
        ImageVerb::Deactivate(args) => super::activation::deactivate(args, ctx),
    }
}

/// Flags over config keys over defaults.
fn fetch_options(args: &FetchArgs, ctx: &Context) -> Result<FetchOptions> {
    let config = &ctx.config;
    // The config key reads PM_IMAGE_ENDPOINT_URL, then AWS_ENDPOINT_URL.
    let endpoint = args
        .endpoint_url
        .clone()
        .or_else(|| Some(config.string(key::IMAGE_ENDPOINT_URL).to_string()))
        .filter(|s| !s.is_empty());
    Ok(FetchOptions {
        source: args.source.clone(),
        sha256: args.sha256.clone(),
        max_size: args.max_size.unwrap_or(config.bytes(key::IMAGE_MAX_SIZE)),
        part_size: args
            .part_size
            .unwrap_or(config.bytes(key::IMAGE_PART_SIZE).max(1)),
        concurrency: args
            .concurrency
            .unwrap_or(config.int(key::IMAGE_CONCURRENCY).clamp(1, 256) as usize),
        split_tail: config.bool(key::IMAGE_SPLIT_TAIL),
        retries: config.int(key::IMAGE_RETRIES).clamp(0, 100) as u32,
        stall_timeout: Duration::from_secs(
            config.int(key::IMAGE_STALL_TIMEOUT).clamp(1, 3600) as u64
        ),
        sync_every: config.bytes(key::IMAGE_SYNC_EVERY).max(1),
        endpoint_url: endpoint,
        cwd: current_dir()?,
    })
}

fn store(ctx: &Context) -> ImageStore {
    ImageStore::new(ctx.paths())
}

/// Relative paths in references are resolved against this.
pub fn current_dir() -> Result<std::path::PathBuf> {
    Ok(std::env::current_dir().map_err(|e| PmError::io("cannot read the current directory", e))?)
}

/// `pm image show`: the image, its verdict and its activations.
fn show(ctx: &mut Context, reference: &str) -> Result<ImageShow> {
    let store = store(ctx);
    let cwd = current_dir()?;
    let db = ctx.read_state()?;
    let image = store.resolve(db, reference, &cwd)?;
    let validation = validation_for(db, &image.digest)?.map(Verdict::from);
    let activations = list_activations(db)?
        .into_iter()
        .filter(|a| a.image == image.digest)
        .collect();
    Ok(ImageShow {
        image,
        validation,
        activations,
    })
}

/// `pm image activations`: every activation, or one image's.
fn activations(ctx: &mut Context, image: Option<&str>) -> Result<Activations> {
    let store = store(ctx);
    let cwd = current_dir()?;
    let db = ctx.read_state()?;
    let only: Option<Digest> = match image {
        Some(reference) => Some(store.resolve(db, reference, &cwd)?.digest),
        None => None,
    };
    let activations = list_activations(db)?
        .into_iter()
        .filter(|a| only.as_ref().is_none_or(|d| &a.image == d))
        .collect();
    Ok(Activations { activations })
}

/// `-` reads the image from the JSON a previous pm command printed.
fn image_reference(arg: &str) -> Result<String> {
    crate::input::argument_or_piped(arg, &["digest", "id"])
}

fn remove(ctx: &mut Context, reference: &str, force: bool) -> Result<Removed> {
    let store = store(ctx);
    let cwd = current_dir()?;
    if ctx.dry_run {
        return predict_remove(ctx, &store, reference, &cwd, force);
    }
    let pool_lock = ctx.pool_lock()?;
    let lock = ctx.lock()?;
    let state = ctx.state()?;
    let record = removable(&store, state, reference, &cwd, force)?;
    store.remove(state, &lock, &record.digest)?;
    // pool/activate: its base volumes go too, unless an activation (kept
    // by --force) still stands on them.
    let settings = crate::pool::PoolSettings::from_config(&ctx.config);
    let base_volumes = crate::pool::remove_unused_bases(
        ctx.state()?,
        &pool_lock,
        &settings,
        Some(&record.digest),
    )?;
    Ok(Removed {
        changed: true,
        id: record.id,
        digest: record.digest,
        bytes_freed: record.size,
        base_volumes,
    })
}

/// The image `reference` names, unless something uses it (and not `force`).
fn removable(
    store: &ImageStore,
    db: &crate::state::Reader,
    reference: &str,
    cwd: &std::path::Path,
    force: bool,
) -> Result<ImageRecord> {
    let record = store.resolve(db, reference, cwd)?;
    let users = store.users_of(db, &record.digest)?;
    if !users.is_empty() && !force {
        return Err(PmError::ImageInUse {
            image: record.id,
            users,
        }
        .into());
    }
    Ok(record)
}

/// What `remove` would do, touching nothing (`--dry-run`).
fn predict_remove(
    ctx: &mut Context,
    store: &ImageStore,
    reference: &str,
    cwd: &std::path::Path,
    force: bool,
) -> Result<Removed> {
    let db = ctx.read_state()?;
    let record = removable(store, db, reference, cwd, force)?;
    let base_volumes = crate::pool::unused_bases(db, Some(&record.digest))?;
    Ok(Removed {
        changed: true,
        id: record.id,
        digest: record.digest,
        bytes_freed: record.size,
        base_volumes,
    })
}

fn parse_size(text: &str) -> std::result::Result<u64, String> {
    crate::config::parse_bytes(text).ok_or_else(|| "expected a size such as 512MiB or 8GiB".into())
}

fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| e.to_string())
}

#[derive(Serialize, JsonSchema)]
struct ImageList {
    images: Vec<ImageRecord>,
}

impl Render for ImageList {
    fn human(&self) -> String {
        let mut out = format!("{:<12}  {:>14}  {:<24}  SOURCE\n", "ID", "SIZE", "CREATED");
        for image in &self.images {
            out.push_str(&format!(
                "{:<12}  {:>14}  {:<24}  {}\n",
                image.id,
                image.size,
                image.created_at,
                image.sources.first().map_or("", String::as_str)
            ));
        }
        out
    }
}

/// `pm image show`: the image, flattened, with its verdict and activations.
#[derive(Serialize, JsonSchema)]
struct ImageShow {
    #[serde(flatten)]
    image: ImageRecord,
    /// The stored verdict of `pm image validate`, if any.
    validation: Option<Verdict>,
    activations: Vec<ActivationRecord>,
}

/// The stored verdict, as `image show` prints it.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "StoredVerdict")]
struct Verdict {
    verdict: crate::image::validate::Verdict,
    /// Whether `pm image activate` accepts it (safe, by the current rules).
    current: bool,
    validated_at: String,
    violations: usize,
}

impl From<ValidationRecord> for Verdict {
    fn from(record: ValidationRecord) -> Verdict {
        Verdict {
            current: record.rules_version == crate::image::validate::RULES_VERSION,
            verdict: record.verdict,
            validated_at: record.validated_at,
            violations: record.report.violations.len(),
        }
    }
}

impl Render for ImageShow {
    fn human(&self) -> String {
        let i = &self.image;
        let mut out = format!(
            "id:         {}\ndigest:     {}\nsize:       {}\npath:       {}\ncreated:    {}\n",
            i.id,
            i.digest,
            i.size,
            i.path.display(),
            i.created_at
        );
        for source in &i.sources {
            out.push_str(&format!("source:     {source}\n"));
        }
        match &self.validation {
            None => out.push_str("validated:  no (run `pm image validate`)\n"),
            Some(v) => out.push_str(&format!(
                "validated:  {} at {}{}\n",
                match v.verdict {
                    crate::image::validate::Verdict::Safe => "safe".to_string(),
                    crate::image::validate::Verdict::Rejected =>
                        format!("rejected ({} violations)", v.violations),
                },
                v.validated_at,
                if v.current {
                    ""
                } else {
                    " (by older rules: validate again)"
                }
            )),
        }
        for a in &self.activations {
            out.push_str(&format!("activation: {}\n", activation_line(a)));
        }
        out
    }
}

/// `name (backend): device or path, created ...`
fn activation_line(a: &ActivationRecord) -> String {
    let place = a.device.as_ref().map_or_else(
        || a.path.clone(),
        |d| format!("{} ({})", d.display(), a.path),
    );
    format!(
        "{} ({}): {place}, created {}",
        a.name,
        a.backend.as_str(),
        a.created_at
    )
}

/// `pm image activations`.
#[derive(Serialize, JsonSchema)]
struct Activations {
    activations: Vec<ActivationRecord>,
}

impl Render for Activations {
    fn human(&self) -> String {
        if self.activations.is_empty() {
            return "no activations\n".to_string();
        }
        let mut out = format!(
            "{:<20}  {:<12}  {:<7}  {:<24}  DEVICE OR PATH\n",
            "NAME", "IMAGE", "BACKEND", "CREATED"
        );
        for a in &self.activations {
            let place = a
                .device
                .as_ref()
                .map_or_else(|| a.path.clone(), |d| d.display().to_string());
            out.push_str(&format!(
                "{:<20}  {:<12}  {:<7}  {:<24}  {place}\n",
                a.name,
                a.image.short_id(),
                a.backend.as_str(),
                a.created_at
            ));
        }
        out
    }
}

#[derive(Serialize, JsonSchema)]
struct Removed {
    changed: bool,
    id: String,
    digest: Digest,
    bytes_freed: u64,
    /// Base volumes removed with the image (`thin` or `dir`).
    base_volumes: Vec<crate::pool::VolumeRecord>,
}

impl Render for Removed {
    fn human(&self) -> String {
        format!("removed {} ({} bytes freed)", self.id, self.bytes_freed)
    }
}

/// `pm image validate <IMAGE|FILE|->`.
pub mod validate {
    use crate::config::parse_bytes;
    use crate::context::Context;
    use crate::digest::Digest;
    use crate::error::PmError;
    use crate::image::store::{ImageRecord, ImageStore};
    use crate::image::validate::{
        Limits, Policy, Report, record_validation, validate_file, validation_for,
    };
    use crate::input;
    use crate::output::{Outcome, Render};
    use anyhow::Result;
    use clap::Args;
    use clap_complete::engine::ArgValueCompleter;
    use schemars::JsonSchema;
    use serde::Serialize;
    use std::path::{Path, PathBuf};

    #[derive(Debug, Args)]
    #[command(after_help = "\
Accepts tar, tar.gz and tar.zst, recognised by their magic bytes. A stored
image gets its verdict recorded (re-running with the same limits answers
from the record, \"changed\": false); a plain file records nothing.
Exit code 3 (image_rejected) when the image breaks any rule; every
violation is listed, in JSON under error.violations.")]
    pub struct ValidateArgs {
        /// A stored image (short id, digest or source), an archive file, or `-` for the JSON of a previous pm command on stdin
        #[arg(value_name = "IMAGE|FILE|-", add = ArgValueCompleter::new(crate::complete::image_refs))]
        pub target: String,
        /// Most bytes of file data the image may unpack to [config: image.max_unpacked_size, default 8GiB]
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        pub max_unpacked_size: Option<u64>,
        /// Most entries [config: image.max_entries, default 100000]
        #[arg(long, value_name = "N")]
        pub max_entries: Option<u64>,
        /// Most bytes in an entry name or link target [config: image.max_path_length, default 4096]
        #[arg(long, value_name = "BYTES")]
        pub max_path_length: Option<u64>,
        /// Most bytes in one path component [config: image.max_component_length, default 255]
        #[arg(long, value_name = "BYTES")]
        pub max_component_length: Option<u64>,
        /// Most directory levels in an entry name [config: image.max_depth, default 256]
        #[arg(long, value_name = "N")]
        pub max_depth: Option<u64>,
        /// Most symlinks followed resolving one link [config: image.max_symlink_hops, default 40]
        #[arg(long, value_name = "N")]
        pub max_symlink_hops: Option<u32>,
        /// Most symlinks followed resolving all the links of the image [config: image.max_total_symlink_hops, default 1000000]
        #[arg(long, value_name = "N")]
        pub max_total_symlink_hops: Option<u64>,
        /// Most decompressed bytes per compressed byte, past the first MiB; 0 = off [config: image.max_compression_ratio, default 100]
        #[arg(long, value_name = "N")]
        pub max_compression_ratio: Option<u64>,
        /// Accept device nodes and FIFOs [config: image.allow_devices]
        #[arg(long)]
        pub allow_devices: bool,
        /// Accept setuid and setgid files; they are still reported [config: image.allow_setuid]
        #[arg(long)]
        pub allow_setuid: bool,
    }

    fn parse_size(text: &str) -> std::result::Result<u64, String> {
        parse_bytes(text).ok_or_else(|| "expected a size such as 512MiB or 8GiB".to_string())
    }

    impl ValidateArgs {
        /// Config values, overridden by the flags given for this run.
        fn limits(&self, ctx: &Context) -> (Limits, Policy) {
            let mut limits = Limits::from_config(&ctx.config);
            let overrides = [
                (self.max_unpacked_size, &mut limits.max_unpacked_size),
                (self.max_entries, &mut limits.max_entries),
                (self.max_path_length, &mut limits.max_path_length),
                (self.max_component_length, &mut limits.max_component_length),
                (self.max_depth, &mut limits.max_depth),
                (
                    self.max_total_symlink_hops,
                    &mut limits.max_total_symlink_hops,
                ),
                (
                    self.max_compression_ratio,
                    &mut limits.max_compression_ratio,
                ),
            ];
            for (flag, slot) in overrides {
                if let Some(value) = flag {
                    *slot = value;
                }
            }
            if let Some(hops) = self.max_symlink_hops {
                limits.max_symlink_hops = hops;
            }
            let mut policy = Policy::from_config(&ctx.config);
            policy.allow_devices |= self.allow_devices;
            policy.allow_setuid |= self.allow_setuid;
            (limits, policy)
        }
    }

    /// What is validated.
    enum Target {
        Stored(ImageRecord),
        File(PathBuf),
    }

    pub fn run(args: ValidateArgs, ctx: &mut Context) -> Result<Outcome> {
        let (limits, policy) = args.limits(ctx);
        let target = resolve_target(ctx, &args.target)?;
        let (report, image, path, changed, recorded) = match target {
            Target::Stored(image) => {
                let known = validation_for(ctx.read_state()?, &image.digest)?
                    .filter(|r| r.matches(&limits, &policy));
                match known {
                    Some(record) => {
                        let path = image.path.clone();
                        (record.report, Some(image), path, false, true)
                    }
                    None if ctx.dry_run => {
                        // Judged as a real run would, but not recorded.
                        let report = checked(ctx, &image.path, &limits, &policy)?;
                        let path = image.path.clone();
                        (report, Some(image), path, true, false)
                    }
                    None => {
                        let report = checked(ctx, &image.path, &limits, &policy)?;
                        let lock = ctx.lock()?;
                        record_validation(ctx.state()?, &lock, &image.digest, &report)?;
                        let path = image.path.clone();
                        (report, Some(image), path, true, true)
                    }
                }
            }
            Target::File(path) => {
                let report = checked(ctx, &path, &limits, &policy)?;
                (report, None, path, false, false)
            }
        };
        if !report.is_safe() {
            return Err(report.rejection().into());
        }
        Outcome::of(&Validated {
            changed,
            recorded,
            id: image.as_ref().map(|i| i.id.clone()),
            digest: image.as_ref().map(|i| i.digest.clone()),
            path,
            report,
        })
    }

    fn checked(ctx: &Context, path: &Path, limits: &Limits, policy: &Policy) -> Result<Report> {
        tracing::info!(path = %path.display(), "image_validate_start");
        let progress = ctx.byte_progress("validating", 0);
        let report = validate_file(path, limits, policy, progress.as_ref());
        match &report {
            Ok(r) => tracing::info!(
                path = %path.display(),
                verdict = ?r.verdict,
                violations = r.violation_counts.values().sum::<u64>(),
                entries = r.counts.entries,
                "image_validate_complete"
            ),
            // Printed once by main; the log keeps the chain for -vv.
            Err(e) => tracing::debug!(error = format!("{e:#}"), "image_validate_failed"),
        }
        report
    }

    /// `-`: the JSON of a previous command (its `digest`, `id` or `path`);
    /// otherwise a stored image by id, digest or source, else a file.
    fn resolve_target(ctx: &mut Context, reference: &str) -> Result<Target> {
        if reference == "-" {
            let doc = input::read_document(std::io::stdin().lock())?;
            if let Ok(digest) = input::string_field(&doc, &["digest", "id"]) {
                return Ok(Target::Stored(stored(ctx, &digest)?));
            }
            let path = input::string_field(&doc, &["path"])?;
            return Ok(Target::File(PathBuf::from(path)));
        }
        match stored(ctx, reference) {
            Ok(image) => return Ok(Target::Stored(image)),
            Err(e) if !is_not_found(&e) => return Err(e),
            Err(_) => {}
        }
        let path = Path::new(reference);
        if path.exists() || path.is_symlink() {
            return Ok(Target::File(path.to_path_buf()));
        }
        Err(PmError::not_found(
            format!("image or file {reference:?}"),
            Some("give a stored image (see `pm image list`), an archive file, or `-`".to_string()),
        )
        .into())
    }

    fn stored(ctx: &mut Context, reference: &str) -> Result<ImageRecord> {
        let store = ImageStore::new(ctx.paths());
        let cwd = super::current_dir()?;
        store.resolve(ctx.read_state()?, reference, &cwd)
    }

    fn is_not_found(e: &anyhow::Error) -> bool {
        matches!(e.downcast_ref::<PmError>(), Some(PmError::NotFound { .. }))
    }

    /// The result of a successful validation.
    #[derive(Serialize, JsonSchema)]
    pub(super) struct Validated {
        changed: bool,
        /// Whether the verdict is in the state (stored images only).
        recorded: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        digest: Option<Digest>,
        path: PathBuf,
        #[serde(flatten)]
        report: Report,
    }

    impl Render for Validated {
        fn human(&self) -> String {
            let r = &self.report;
            let what = match &self.id {
                Some(id) => format!("image {id}"),
                None => self.path.display().to_string(),
            };
            let format = r.format.map(|f| f.to_string()).unwrap_or_default();
            let mut out = format!(
                "{what}: safe ({format}, {} entries: {} files, {} directories, {} symlinks, {} hardlinks, {} special; {} bytes unpacked)\n",
                r.counts.entries,
                r.counts.files,
                r.counts.directories,
                r.counts.symlinks,
                r.counts.hardlinks,
                r.counts.special,
                r.unpacked_bytes
            );
            for notice in &r.notices {
                out.push_str(&format!("  note: {}\n", notice.line()));
            }
            if self.recorded && !self.changed {
                out.push_str("  (already validated with these limits)\n");
            }
            out
        }
    }
}
