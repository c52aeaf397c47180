#!/usr/bin/env bash
# Type-checks pm (and its tests) for macOS from Linux, so the portable build
# (dir backend, no openat2, no device-mapper) cannot rot between runs of
# scripts/test-macos.sh on a Mac. A check only: no macOS SDK is here, so the
# C parts of dependencies (ring, SQLite) are "compiled" with `true`; their
# Rust side and all of pm's code are checked for real, with clippy.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-apple-darwin
if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi
CC_x86_64_apple_darwin=true AR_x86_64_apple_darwin=true \
  cargo clippy --locked --all-targets --target "$target" --target-dir target/macos-check \
  -- -D warnings
