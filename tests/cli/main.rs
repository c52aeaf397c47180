//! End-to-end tests: the real `pm` binary, real components.

mod support;

mod contract;
mod fetch;
