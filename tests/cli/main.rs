//! End-to-end tests: the real `pm` binary, real components.

mod support;

mod activate;
mod archives;
mod bw_fixture;
mod collection;
mod completion;
mod concurrency;
mod config;
mod contract;
mod crash;
mod dry_run;
mod examples;
mod fetch;
mod generated;
mod inspect;
mod layout;
mod lock;
mod messages;
mod net;
mod play;
mod provider;
mod ray_cluster;
mod readonly;
mod rootfs;
mod schema;
mod setup;
mod state;
mod thin;
mod validate;
mod vault;
