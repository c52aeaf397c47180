//! `pm image fetch|list|show|rm|gc`: images in the content-addressed store.

use crate::context::Context;
use crate::error::PmError;
use crate::image::fetch::{FetchOptions, fetch};
use crate::image::store::{ImageRecord, ImageStore};
use crate::output::{Outcome, Render};
use anyhow::Result;
use clap::{Args, Subcommand};
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
        image: String,
    },
    /// Remove an image from the store (refused while something uses it)
    Rm {
        /// Short id, digest (prefix), source, or `-` for a previous pm command's JSON
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
        }
    }

    pub fn is_mutating(&self) -> bool {
        matches!(
            self,
            ImageVerb::Fetch(_) | ImageVerb::Rm { .. } | ImageVerb::Gc { .. }
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
        endpoint_url: endpoint,
        cwd,
    })
}

fn store(ctx: &Context) -> ImageStore {
    ImageStore::for_state(&ctx.config.state_path())
}

/// `-` reads the image from the JSON a previous pm command printed.
fn image_reference(arg: &str) -> Result<String> {
    if arg != "-" {
        return Ok(arg.to_string());
    }
    let doc = crate::input::read_document(std::io::stdin().lock())?;
    crate::input::string_field(&doc, &["digest", "id"])
}

fn remove(ctx: &mut Context, reference: &str, force: bool) -> Result<Removed> {
    let store = store(ctx);
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
    Ok(Removed {
        changed: true,
        id: record.id,
        digest: record.digest,
        bytes_freed: record.size,
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
}

impl Render for Removed {
    fn human(&self) -> String {
        format!("removed {} ({} bytes freed)", self.id, self.bytes_freed)
    }
}
