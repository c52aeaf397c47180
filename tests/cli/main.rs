//! End-to-end tests: the real `pm` binary, real components.

mod support;

mod contract;

mod archives;
mod fetch;
mod validate;

// pool/activate (issue 6)
mod activate;
mod rootfs;
mod thin;
