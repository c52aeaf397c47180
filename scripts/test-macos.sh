#!/usr/bin/env bash
# The portable subset: everything that needs no device-mapper and no
# Linux-only tool (the dir backend stands in for thin volumes).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked --all-targets
