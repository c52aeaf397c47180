//! Dynamic shell completion of values that live in the state: image ids,
//! activation names, recorded command names. Shells call `pm` with
//! `COMPLETE=<shell>` set (see `main`), clap_complete routes the request to
//! these functions, and they read the state without locking or writing.

use crate::config::{Config, Environment};
use crate::image::store::ImageStore;
use crate::state::State;
use clap_complete::engine::CompletionCandidate;
use std::ffi::OsStr;

/// The state named by the environment and config file (a completion request
/// carries no parsed flags). `None` when there is no state yet: completing
/// must never create one.
fn existing_state() -> Option<State> {
    let config = Config::load(&Default::default(), Environment::capture()).ok()?;
    let path = config.state_path();
    path.exists().then(|| State::open(&path).ok()).flatten()
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
    let Some(state) = existing_state() else {
        return Vec::new();
    };
    let store = ImageStore::for_state(state.path());
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
    let Some(state) = existing_state() else {
        return Vec::new();
    };
    let names = state
        .reader()
        .prepare("SELECT name, backend FROM activations ORDER BY name")
        .and_then(|mut stmt| {
            stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, Option<String>>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .unwrap_or_default();
    matching(current, names)
}

/// Command names recorded in the history.
pub fn history_commands(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(state) = existing_state() else {
        return Vec::new();
    };
    let commands = state.history_commands().unwrap_or_default();
    matching(current, commands.into_iter().map(|c| (c, None)).collect())
}
