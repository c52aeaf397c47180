//! `pm pool create|status|destroy`: the device-mapper thin pool that
//! activations live on.

use crate::config::parse_bytes;
use crate::context::Context;
use crate::error::PmError;
use crate::output::{Outcome, Render};
use crate::pool::PoolSettings;
use crate::pool::admin::{self, PoolCreated, PoolDestroyed, PoolDevices, PoolStatus};
use crate::schema::Output;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PoolArgs {
    #[command(subcommand)]
    pub verb: PoolVerb,
}

#[derive(Debug, Subcommand)]
pub enum PoolVerb {
    /// Create the thin pool on block devices, or on sparse files (--loop-dir)
    Create(CreateArgs),
    /// Data and metadata usage, thin devices, and mismatches between state and kernel
    Status,
    /// Tear the pool down (refused while activations exist, unless --force)
    Destroy(DestroyArgs),
}

impl PoolVerb {
    pub fn name(&self) -> &'static str {
        match self {
            PoolVerb::Create(_) => "create",
            PoolVerb::Status => "status",
            PoolVerb::Destroy(_) => "destroy",
        }
    }

    pub fn is_mutating(&self) -> bool {
        !matches!(self, PoolVerb::Status)
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Block device for the pool's data
    #[arg(
        long,
        value_name = "DEV",
        requires = "metadata",
        conflicts_with = "loop_dir"
    )]
    pub data: Option<PathBuf>,
    /// Block device for the pool's metadata (its start is zeroed)
    #[arg(long, value_name = "DEV", requires = "data")]
    pub metadata: Option<PathBuf>,
    /// Folder for loop-backed sparse files (test hosts)
    #[arg(long, value_name = "DIR")]
    pub loop_dir: Option<PathBuf>,
    /// Size of the data file with --loop-dir
    #[arg(long, value_name = "SIZE", default_value = "4GiB", value_parser = parse_size)]
    pub data_size: u64,
    /// Size of the metadata file with --loop-dir
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub metadata_size: u64,
    /// Data block size, a multiple of 64KiB [config: pool.block_size]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub block_size: Option<u64>,
    /// Free data blocks below which the kernel signals [config: pool.low_water_mark]
    #[arg(long, value_name = "BLOCKS")]
    pub low_water_mark: Option<u64>,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Remove the activations and volumes on the pool too
    #[arg(long)]
    pub force: bool,
}

fn parse_size(text: &str) -> std::result::Result<u64, String> {
    parse_bytes(text).ok_or_else(|| "expected a size such as 64MiB or 4GiB".to_string())
}

/// What each verb prints, for `pm schema`.
pub fn outputs() -> Vec<Output> {
    vec![
        Output::mutating::<PoolCreated>("pool create"),
        Output::read_only::<PoolStatus>("pool status"),
        Output::mutating::<PoolDestroyed>("pool destroy"),
    ]
}

pub fn run(args: PoolArgs, ctx: &mut Context) -> Result<Outcome> {
    let mut settings = PoolSettings::from_config(&ctx.config);
    match args.verb {
        PoolVerb::Create(create) => {
            if let Some(size) = create.block_size {
                settings.block_size = size;
            }
            if let Some(mark) = create.low_water_mark {
                settings.low_water = mark;
            }
            let devices = match (create.data, create.metadata, create.loop_dir) {
                (Some(data), Some(metadata), None) => PoolDevices::Block { data, metadata },
                (None, None, Some(dir)) => PoolDevices::LoopFiles {
                    dir,
                    data_size: create.data_size,
                    metadata_size: create.metadata_size,
                },
                _ => {
                    return Err(PmError::usage(
                        "give either --data and --metadata, or --loop-dir",
                        Some("e.g. `pm pool create --loop-dir /var/lib/pm/pool`".to_string()),
                    )
                    .into());
                }
            };
            if ctx.dry_run {
                return Outcome::of(&admin::predict_create(
                    ctx.read_state()?,
                    &settings,
                    &devices,
                )?);
            }
            let pool_lock = ctx.pool_lock()?;
            Outcome::of(&admin::create_pool(
                ctx.state()?,
                &pool_lock,
                &settings,
                &devices,
            )?)
        }
        PoolVerb::Status => Outcome::of(&admin::pool_status(ctx.read_state()?, &settings)?),
        PoolVerb::Destroy(destroy) if ctx.dry_run => Outcome::of(&admin::predict_destroy(
            ctx.read_state()?,
            &settings,
            destroy.force,
        )?),
        PoolVerb::Destroy(destroy) => {
            let pool_lock = ctx.pool_lock()?;
            Outcome::of(&admin::destroy_pool(
                ctx.state()?,
                &pool_lock,
                &settings,
                destroy.force,
            )?)
        }
    }
}

impl Render for PoolCreated {
    fn human(&self) -> String {
        let p = &self.pool;
        let verb = if self.changed {
            "created"
        } else {
            "already exists:"
        };
        format!(
            "pool {verb} {}-pool (data {} {} bytes, metadata {} {} bytes, block {} bytes)\n",
            p.name,
            p.data_dev,
            p.data_bytes,
            p.metadata_dev,
            p.metadata_bytes,
            p.block_sectors * 512
        )
    }
}

impl Render for PoolStatus {
    fn human(&self) -> String {
        let mut out = format!("pool {}-pool", self.pool.name);
        #[cfg(target_os = "linux")]
        match &self.usage {
            Some(u) => out.push_str(&format!(
                ": data {}/{} blocks ({:.1}%), metadata {}/{} blocks ({:.1}%), {}\n",
                u.data_used_blocks,
                u.data_total_blocks,
                u.data_percent,
                u.metadata_used_blocks,
                u.metadata_total_blocks,
                u.metadata_percent,
                u.health
            )),
            None => out.push_str(": not active in the kernel\n"),
        }
        for d in &self.thin_devices {
            let what = d.known_as.as_deref().unwrap_or("unknown to state");
            out.push_str(&format!("  {} (thin id {}): {what}\n", d.name, d.thin_id));
        }
        for m in &self.mismatches {
            out.push_str(&format!("  mismatch: {m}\n"));
        }
        out
    }
}

impl Render for PoolDestroyed {
    fn human(&self) -> String {
        if self.changed {
            format!(
                "destroyed pool {}-pool ({} activations, {} volumes removed)\n",
                self.name, self.removed_activations, self.removed_volumes
            )
        } else {
            format!("no pool {} to destroy\n", self.name)
        }
    }
}
