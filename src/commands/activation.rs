//! `pm image activate` and `pm image deactivate`: the verbs of `pm image`
//! that make a validated image usable (see `pool` for the work).

use crate::config::key;
use crate::context::Context;
use crate::error::PmError;
use crate::image::store::{ImageRecord, ImageStore};
use crate::image::unpack;
use crate::image::validate::{Limits, Policy, record_validation, validate_file, validation_for};
use crate::input;
use crate::output::{Outcome, Render};
use crate::pool::{self, ActivateRequest, Activated, Deactivated, PlannedActivation, PoolSettings};
use crate::progress::Bars;
use anyhow::Result;
use clap::Args;
use clap_complete::engine::ArgValueCompleter;
use std::path::Path;

#[derive(Debug, Args)]
#[command(after_help = "\
The first activation of an image creates its base volume (thin: a thin
volume with ext4, filled by a safe unpack; dir: an unpacked folder); each
activation is then a thin snapshot of it (or a copy, reflinked where the
filesystem can). Activating an existing --name again is \"changed\": false.")]
pub struct ActivateArgs {
    /// A stored image (short id, digest or source), or `-` for the JSON of a previous pm command
    #[arg(value_name = "IMAGE|-", add = ArgValueCompleter::new(crate::complete::image_refs))]
    pub image: String,
    /// A name for the activation; activating the same name again changes nothing
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Where the activation lives [config: pool.backend, default auto: thin when device-mapper is present]
    #[arg(long, value_name = "BACKEND", value_parser = ["auto", "thin", "dir"])]
    pub backend: Option<String>,
    /// Validate the image first if it has no safe verdict yet
    #[arg(long)]
    pub validate: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
An activation that does not exist is already deactivated: \"changed\": false
(Ansible's \"ensure absent\"). --strict makes that a not_found error.")]
pub struct DeactivateArgs {
    /// An activation id or name, or `-` for the JSON of `pm image activate`
    #[arg(value_name = "ACTIVATION|-", add = ArgValueCompleter::new(crate::complete::activation_names))]
    pub activation: String,
    /// Fail with not_found (exit 4) when there is no such activation
    #[arg(long)]
    pub strict: bool,
}

/// Unpacks with the validator's rules, the limits and policy the image was
/// validated under, with a bar of its own (only when it runs).
struct CheckedUnpacker {
    digest: crate::digest::Digest,
    limits: Limits,
    policy: Policy,
    as_root: bool,
    bars: Bars,
    size: u64,
}

impl pool::Unpacker for CheckedUnpacker {
    fn unpack(&self, blob: &Path, root: &Path) -> Result<u64> {
        let progress = self.bars.bytes("unpacking", self.size);
        let validated = unpack::Validated {
            sha256: self.digest.hex(),
            limits: &self.limits,
            policy: &self.policy,
        };
        let stats = unpack::unpack_file(
            blob,
            root,
            &validated,
            self.as_root,
            progress.as_ref(),
            &mut || crate::failpoint::hit("activate_during_unpack"),
        )?;
        Ok(stats.bytes)
    }
}

pub fn activate(args: ActivateArgs, ctx: &mut Context) -> Result<Outcome> {
    // The pool lock, not the state lock: an unpack can take minutes, and
    // fetches, validations and the vault must not wait for it. Taken first,
    // so that `pm image rm` cannot remove the image between here and the end.
    if ctx.dry_run {
        return predict_activate(args, ctx);
    }
    let pool_lock = ctx.pool_lock()?;
    let image = resolve_image(ctx, &args.image)?;
    let (limits, policy) = safe_verdict(ctx, &image, args.validate)?;
    let settings = PoolSettings::from_config(&ctx.config);
    let choice = backend_choice(ctx, &args);
    let unpacker = CheckedUnpacker {
        digest: image.digest.clone(),
        limits,
        policy,
        as_root: settings.as_root,
        bars: ctx.bars(),
        size: image.size,
    };
    let activated = pool::activate(
        ctx.state()?,
        &pool_lock,
        &settings,
        ActivateRequest {
            digest: &image.digest,
            blob: &image.path,
            name: args.name.as_deref(),
            choice,
        },
        &unpacker,
    )?;
    Outcome::of(&activated)
}

/// `--dry-run`: the verdict is checked (and with `--validate` the image
/// validated) but nothing is recorded, locked or unpacked.
fn predict_activate(args: ActivateArgs, ctx: &mut Context) -> Result<Outcome> {
    let image = resolve_image(ctx, &args.image)?;
    safe_verdict(ctx, &image, args.validate)?;
    let settings = PoolSettings::from_config(&ctx.config);
    let choice = backend_choice(ctx, &args);
    let planned = pool::predict_activate(
        ctx.read_state()?,
        &settings,
        ActivateRequest {
            digest: &image.digest,
            blob: &image.path,
            name: args.name.as_deref(),
            choice,
        },
    )?;
    Outcome::of(&planned)
}

/// `--backend`, else `pool.backend`; says so when `auto` falls back to dir.
fn backend_choice(ctx: &Context, args: &ActivateArgs) -> pool::BackendChoice {
    let requested = args
        .backend
        .clone()
        .unwrap_or_else(|| ctx.config.choice(key::POOL_BACKEND).to_string());
    let choice = pool::choose_backend(&requested);
    if let Some(reason) = &choice.reason {
        ctx.notice(&format!("using the dir backend: {reason}"));
    }
    choice
}

pub fn deactivate(args: DeactivateArgs, ctx: &mut Context) -> Result<Outcome> {
    let reference = input::argument_or_piped(&args.activation, &["id", "name"])?;
    if ctx.dry_run {
        let planned = pool::predict_deactivate(ctx.read_state()?, &reference, args.strict)?;
        return Outcome::of(&planned);
    }
    let settings = PoolSettings::from_config(&ctx.config);
    let pool_lock = ctx.pool_lock()?;
    let done = pool::deactivate(ctx.state()?, &pool_lock, &settings, &reference, args.strict)?;
    Outcome::of(&done)
}

fn resolve_image(ctx: &mut Context, reference: &str) -> Result<ImageRecord> {
    let reference = input::argument_or_piped(reference, &["digest", "id"])?;
    let store = ImageStore::new(ctx.paths());
    let cwd = super::image::current_dir()?;
    if ctx.dry_run {
        return store.resolve(ctx.read_state()?, &reference, &cwd);
    }
    store.resolve(ctx.state()?, &reference, &cwd)
}

/// The limits and policy the image was found safe under; validates first
/// when asked and no verdict exists.
fn safe_verdict(
    ctx: &mut Context,
    image: &ImageRecord,
    validate: bool,
) -> Result<(Limits, Policy)> {
    let known = if ctx.dry_run {
        validation_for(ctx.read_state()?, &image.digest)?
    } else {
        validation_for(ctx.state()?, &image.digest)?
    };
    if let Some(record) = known {
        if record.is_safe() {
            return Ok((record.report.limits.clone(), record.report.policy.clone()));
        }
        if !validate {
            return Err(record.report.rejection().into());
        }
    }
    if !validate {
        return Err(PmError::ImageNotValidated {
            image: image.id.clone(),
        }
        .into());
    }
    let limits = Limits::from_config(&ctx.config);
    let policy = Policy::from_config(&ctx.config);
    let progress = ctx.byte_progress("validating", image.size);
    let report = validate_file(&image.path, &limits, &policy, progress.as_ref())?;
    if !ctx.dry_run {
        let lock = ctx.lock()?;
        record_validation(ctx.state()?, &lock, &image.digest, &report)?;
    }
    if !report.is_safe() {
        return Err(report.rejection().into());
    }
    Ok((limits, policy))
}

impl Render for Activated {
    fn human(&self) -> String {
        let a = &self.activation;
        let mut out = String::new();
        for r in &self.reconciled {
            out.push_str(&format!("reconciled: {} {}\n", r.action, r.subject));
        }
        let verb = if self.changed {
            "activated"
        } else {
            "already active"
        };
        out.push_str(&format!(
            "{verb}: {} (id {}) of image {}\n",
            a.name, a.id, a.image
        ));
        match (&a.device, a.snapshot_id) {
            (Some(device), Some(snap)) => out.push_str(&format!(
                "  backend thin: device {} ({}), snapshot id {snap}\n",
                device.display(),
                a.path
            )),
            _ => out.push_str(&format!("  backend {}: {}\n", a.backend.as_str(), a.path)),
        }
        if let Some(reason) = &self.backend_reason {
            out.push_str(&format!("  backend chosen automatically: {reason}\n"));
        }
        if self.base_created {
            out.push_str("  (created the image's base volume)\n");
        }
        out
    }
}

impl Render for Deactivated {
    fn human(&self) -> String {
        let mut out = String::new();
        for r in &self.reconciled {
            out.push_str(&format!("reconciled: {} {}\n", r.action, r.subject));
        }
        match &self.id {
            Some(id) if self.changed => {
                out.push_str(&format!("deactivated: {} (id {id})\n", self.name));
            }
            _ => out.push_str(&format!("no activation {:?}: nothing to do\n", self.name)),
        }
        out
    }
}

impl Render for PlannedActivation {
    fn human(&self) -> String {
        let name = self.name.as_deref().unwrap_or("(a new id)");
        if !self.changed {
            return format!("already active: {name} of image {}\n", self.image);
        }
        let mut out = format!(
            "would activate {name} of image {} on the {} backend\n",
            self.image,
            self.backend.as_str()
        );
        if self.base_created {
            out.push_str("  (and create the image's base volume)\n");
        }
        out
    }
}
