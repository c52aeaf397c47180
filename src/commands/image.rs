//! `pm image fetch|list|show|rm|gc`: images in the content-addressed store.

use crate::context::Context;
use crate::error::PmError;
use crate::image::fetch::{FetchOptions, fetch};
use crate::image::store::{ImageRecord, ImageStore};
use crate::output::{Outcome, Render};
use anyhow::Result;
use clap::{Args, Subcommand};
use clap_complete::engine::ArgValueCompleter;
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
    /// Show one image: id, digest, size, path, sources
    Show {
        /// Short id, digest (prefix), source, or `-` for a previous pm command's JSON
        #[arg(add = ArgValueCompleter::new(crate::complete::image_refs))]
        image: String,
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

pub fn run(args: ImageArgs, ctx: &mut Context) -> Result<Outcome> {
    match args.verb {
        ImageVerb::Fetch(fetch_args) => {
            let options = fetch_options(&fetch_args, ctx)?;
            Outcome::of(&fetch(ctx, &options)?)
        }
        ImageVerb::List { source } => {
            let store = store(ctx);
            let images = store
                .list(ctx.state()?)?
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
            Outcome::of(&ImageShow(store(ctx).resolve(ctx.state()?, &reference)?))
        }
        ImageVerb::Rm { image, force } => {
            let reference = image_reference(&image)?;
            Outcome::of(&remove(ctx, &reference, force)?)
        }
        ImageVerb::Gc { older_than } => {
            let age = match older_than {
                Some(age) => age,
                None => parse_duration(ctx.config.string("image.gc_partial_age")).map_err(|e| {
                    PmError::usage(
                        format!("image.gc_partial_age: {e}"),
                        Some("use a duration such as 24h or 7d".to_string()),
                    )
                })?,
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
    let endpoint = args
        .endpoint_url
        .clone()
        .or_else(|| Some(config.string("image.endpoint_url").to_string()))
        .filter(|s| !s.is_empty())
        .or_else(|| config.env.var("AWS_ENDPOINT_URL").map(str::to_string));
    let cwd =
        std::env::current_dir().map_err(|e| PmError::io("cannot read the current directory", e))?;
    Ok(FetchOptions {
        source: args.source.clone(),
        sha256: args.sha256.clone(),
        max_size: args
            .max_size
            .unwrap_or(config.int("image.max_size").max(0) as u64),
        part_size: args
            .part_size
            .unwrap_or(config.int("image.part_size").max(1) as u64),
        concurrency: args
            .concurrency
            .unwrap_or(config.int("image.concurrency").clamp(1, 256) as usize),
        retries: config.int("image.retries").clamp(0, 100) as u32,
        stall_timeout: Duration::from_secs(config.int("image.stall_timeout").clamp(1, 3600) as u64),
        sync_every: config.int("image.sync_every").max(1) as u64,
        endpoint_url: endpoint,
        cwd,
    })
}

fn store(ctx: &Context) -> ImageStore {
    ImageStore::for_state(&ctx.config.state_path())
}

/// `-` reads the image from the JSON a previous pm command printed.
fn image_reference(arg: &str) -> Result<String> {
    crate::input::argument_or_piped(arg, &["digest", "id"])
}

fn remove(ctx: &mut Context, reference: &str, force: bool) -> Result<Removed> {
    let store = store(ctx);
    let _pool_lock = ctx.pool_lock()?;
    let _lock = ctx.lock()?;
    let state = ctx.state()?;
    let record = store.resolve(state, reference)?;
    let users = store.users_of(state, &record.digest)?;
    if !users.is_empty() && !force {
        return Err(PmError::ImageInUse {
            image: record.id,
            users,
        }
        .into());
    }
    store.remove(state, &record.digest)?;
    // pool/activate: its base volumes go too, unless an activation (kept
    // by --force) still stands on them.
    let settings = crate::pool::PoolSettings::from_config(&ctx.config);
    let base_volumes =
        crate::pool::remove_unused_bases(ctx.state()?, &settings, Some(&record.digest))?;
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

#[derive(Serialize)]
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

#[derive(Serialize)]
struct ImageShow(ImageRecord);

impl Render for ImageShow {
    fn human(&self) -> String {
        let i = &self.0;
        let mut out = format!(
            "id:      {}\ndigest:  {}\nsize:    {}\npath:    {}\ncreated: {}\n",
            i.id,
            i.digest,
            i.size,
            i.path.display(),
            i.created_at
        );
        for source in &i.sources {
            out.push_str(&format!("source:  {source}\n"));
        }
        out
    }
}

#[derive(Serialize)]
struct Removed {
    changed: bool,
    id: String,
    digest: String,
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
                let known = validation_for(ctx.state()?, &image.digest)?
                    .filter(|r| r.matches(&limits, &policy));
                match known {
                    Some(record) => {
                        let path = image.path.clone();
                        (record.report, Some(image), path, false, true)
                    }
                    None => {
                        let report = checked(ctx, &image.path, &limits, &policy)?;
                        let _lock = ctx.lock()?;
                        record_validation(ctx.state()?, &image.digest, &report)?;
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
            Err(e) => tracing::warn!(error = format!("{e:#}"), "image_validate_failed"),
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
        if let Ok(absolute) = std::fs::canonicalize(path)
            && let Ok(image) = stored(ctx, &absolute.display().to_string())
        {
            return Ok(Target::Stored(image));
        }
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
        let state = ctx.state()?;
        ImageStore::for_state(state.path()).resolve(state, reference)
    }

    fn is_not_found(e: &anyhow::Error) -> bool {
        matches!(e.downcast_ref::<PmError>(), Some(PmError::NotFound { .. }))
    }

    /// The result of a successful validation.
    #[derive(Serialize)]
    struct Validated {
        changed: bool,
        /// Whether the verdict is in the state (stored images only).
        recorded: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        digest: Option<String>,
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
