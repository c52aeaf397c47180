#!/usr/bin/env bash
# What pm changed on this host lately: one tab-separated line per mutating
# command that changed something, oldest first, from `pm state history`.
#
#   examples/shell/changes.sh 24h
#   2026-12-01T22:13:28.040Z	image fetch	ok
#   2026-12-01T22:13:28.098Z	image validate	ok
#
# The window is `--since` (default 24h). pm state history is read-only: it
# takes no lock and works while other pm commands run.
set -euo pipefail
pm=${PM:-pm}
"$pm" state history --since "${1:-24h}" --json |
  jq -r '.entries | sort_by(.id) | .[] | select(.changed) | [.started_at, .command, .result] | @tsv'
