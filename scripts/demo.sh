#!/usr/bin/env bash
# Builds pm and runs its main job end to end on embedded defaults, in a
# scratch directory that is removed afterwards. Nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --quiet
pm="$(pwd)/target/debug/pm"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PM_STATE="$work/state/state.db"

step() { printf '\n$ pm %s\n' "$*"; "$pm" "$@"; }

step --version
step config show
step state prune --older-than 30days
step state history
step state show
step state backup "$work/backup.db"
step state show --json
