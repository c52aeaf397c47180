//! Dynamic shell completion of values that live in the state: image ids,
//! activation names, recorded command names. Shells call `pm` with
//! `COMPLETE=<shell>` set (see `main`), clap_complete routes the request to
//! these functions, and they read the state through the read-only handle:
//! no lock, no write, no migration, nothing created.

use crate::config::{Config, Environment};
use crate::image::store::ImageStore;
use crate::state::ReadState;
use clap_complete::engine::CompletionCandidate;
use std::ffi::OsStr;

/// The state named by the environment and config file (a completion request
/// carries no parsed flags), read-only.
fn existing_state() -> Option<(ReadState, ImageStore)> {
    let config = Config::load(&Default::default(), Environment::capture()).ok()?;
    let state = ReadState::open(&config.state_path()).ok()?;
    Some((state, ImageStore::new(&config.paths())))
}

fn matching(current: &OsStr, values: Vec<(String, Option<String>)>) -> Vec<CompletionCandidate> {
    let Some(prefix) = current.to_str() else {
        return Vec::new();
    };
    values
        .into_iter()
        .filter(|(value, _)| value.starts_with(prefix))
        .map(|(value, help)| CompletionCandidate::new(value).help(help.map(Into::into)))
        .collect()
}

/// Stored images by short id, each with its most recent source as help.
pub fn image_refs(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some((state, store)) = existing_state() else {
        return Vec::new();
    };
    let images = store.list(&state).unwrap_or_default();
    matching(
        current,
        images
            .into_iter()
            .map(|i| (i.id, i.sources.into_iter().next()))
            .collect(),
    )
}

/// Activation names.
pub fn activation_names(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some((state, _)) = existing_state() else {
        return Vec::new();
    };
    let mut names: Vec<(String, Option<String>)> = state
        .activations()
        .unwrap_or_default()
        .into_iter()
        .map(|a| (a.name, Some(a.backend.as_str().to_string())))
        .collect();
    names.sort();
    matching(current, names)
}

/// Command names recorded in the history.
pub fn history_commands(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some((state, _)) = existing_state() else {
        return Vec::new();
    };
    let commands = state.history_commands().unwrap_or_default();
    matching(current, commands.into_iter().map(|c| (c, None)).collect())
}
