#!/usr/bin/env bash
# Wall time of `pm vault get` on a locked vault (headless unlock from a
# password source, then the read) and on an unlocked one (cached session),
# against `bw get` alone, all on the offline test fixture (no server).
# Medians from hyperfine; the raw JSON is kept in target/bench/.
#
#   bash scripts/bench/vault.sh             # 10 runs each
#   RUNS=20 bash scripts/bench/vault.sh
#
# Needs bw (bash scripts/test-linux.sh installs it) and hyperfine (apt).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
export PATH="$repo/.tools/bin:$repo/.tools/node/node_modules/.bin:$PATH"
runs=${RUNS:-10}

command -v bw >/dev/null || { echo "bw is missing: run bash scripts/test-linux.sh first" >&2; exit 1; }
if ! command -v hyperfine >/dev/null; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq hyperfine >/dev/null
fi

cargo build --release --quiet
pm="$repo/target/release/pm"
out="$repo/target/bench"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
PM_BENCH_FIXTURE_DIR="$work/pristine" \
  cargo test --quiet --test cli -- --ignored --exact vault::write_bench_fixture >/dev/null

unset BW_SESSION BITWARDENCLI_APPDATA_DIR
export PM_STATE="$work/state.db" PM_VAULT_DATA_DIR="$work/data" \
  PM_VAULT_SESSION_DIR="$work/run" PM_VAULT_BW_PATH="$(command -v bw)" \
  BITWARDENCLI_APPDATA_DIR="$work/data" BENCH_PW='correct horse battery staple'
reset="rm -rf '$work/data' '$work/run' && cp -r '$work/pristine' '$work/data'"

# Locked: every run starts from the pristine (locked) data dir, no session.
hyperfine --runs "$runs" --prepare "$reset" --export-json "$out/vault-locked.json" \
  -n 'pm vault get (locked, --password-env)' \
  "$pm vault get tailscale-authkey --password-env BENCH_PW"

# Unlocked: one unlock, then the cached session serves every run.
eval "$reset"
"$pm" vault unlock --password-env BENCH_PW >/dev/null
export BW_SESSION_FILE="$work/run/vault-session"
# By id: `bw get password tailscale-authkey` fails, since bw's substring
# search also finds tailscale-authkey-old (which is why pm filters names).
item_id=6f0c3a59-3f7e-4a43-9d2e-0a1b2c3d4e01
hyperfine --runs "$runs" --export-json "$out/vault-unlocked.json" \
  -n 'pm vault get (unlocked)' "$pm vault get tailscale-authkey" \
  -n 'bw get password <id> (BW_SESSION set)' \
  "BW_SESSION=\$(cat $BW_SESSION_FILE) bw get password $item_id" \
  -n 'bw list items --search (BW_SESSION set)' \
  "BW_SESSION=\$(cat $BW_SESSION_FILE) bw list items --search tailscale-authkey"

python3 - "$out/vault-locked.json" "$out/vault-unlocked.json" <<'PY'
import json, sys
print("\n| command | median | min | max |\n|---|---|---|---|")
for path in sys.argv[1:]:
    for r in json.load(open(path))["results"]:
        print(f"| {r['command']} | {r['median']:.2f} s | {r['min']:.2f} s | {r['max']:.2f} s |")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
