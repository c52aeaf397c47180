//! pm: the platform manager toolkit. See README.md for the tour and
//! `main.rs` for the one path every command takes.

pub mod cli;
pub mod commands;
pub mod complete;
pub mod config;
pub mod context;
pub mod digest;
pub mod error;
pub mod failpoint;
pub mod generate;
pub mod help;
pub mod image;
pub mod input;
pub mod inspect;
pub mod lock;
pub mod logging;
pub mod net;
pub mod output;
pub mod paths;
pub mod play;
pub mod pool;
pub mod progress;
pub mod provider;
pub mod schema;
pub mod secret;
pub mod signals;
pub mod state;
pub mod steps;
pub mod tool;
pub mod vault;
