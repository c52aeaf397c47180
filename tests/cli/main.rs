//! End-to-end tests: the real `pm` binary, real components.

mod support;

mod contract;

// pool/activate (issue 6)
mod activate;
mod fetch;
mod rootfs;
mod thin;
