//! End-to-end tests: the real `pm` binary, real components.

mod support;

mod archives;
mod bw_fixture;
mod concurrency;
mod config;
mod contract;
mod crash;
mod generated;
mod lock;
mod state;
mod validate;
mod vault;
