#!/usr/bin/env bash
# Fetch, validate and activate an image in one pipeline; print where it is.
#
#   examples/shell/activate.sh s3://images/web.tar.zst web-1
#   /var/lib/pm/volumes/activations/3597424c9954            (/dev/dm-3 on thin)
#
# Each pm reads the JSON document of the one before it on stdin (`-`). When a
# stage fails, the later ones fail with upstream_failed carrying its code, so
# the last document names the first failure. The script exits with the exit
# code of the first stage that failed (3: the image was rejected, 4: no such
# source, 8: try again later, ...) and lists a rejected image's violations.
# Running it again is harmless: every stage answers `changed: false`.
set -u
pm=${PM:-pm}
if [ $# -ne 2 ]; then
  echo "usage: $0 SOURCE NAME" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$pm" image fetch "$1" --json |
  "$pm" image validate - --json | tee "$work/validate.json" |
  "$pm" image activate - --name "$2" --json >"$work/activate.json"
codes=("${PIPESTATUS[@]}")

for rc in "${codes[@]}"; do
  [ "$rc" -eq 0 ] && continue
  jq -r '.error | "activate.sh: \(.upstream_code // .code): \(.upstream_message // .message)"' \
    "$work/activate.json" >&2
  jq -r '.error.violations[]? | "  \(.rule)\t\(.path)"' "$work/validate.json" >&2
  exit "$rc"
done
jq -r '.device // .path' "$work/activate.json"
