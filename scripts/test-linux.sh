#!/usr/bin/env bash
# The whole Linux suite. Installs what the tests need on a fresh Debian
# machine (apt-get, npm and pip packages into .tools/ inside the repo), then
# runs every test: unit and end-to-end tests on the host, then the
# device-mapper tests inside a throwaway User-Mode Linux kernel.
#
#   bash scripts/test-linux.sh            # everything
#   PM_SKIP_INSTALL=1 bash scripts/...    # assume the tools are installed
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
tools="$repo/.tools"
mkdir -p "$tools"

# Debian packages the build and the tests use.
apt_packages=(
  pkg-config      # -sys crates
  e2fsprogs       # mkfs.ext4 for thin volumes
  python3-venv    # image fetch: moto (S3 server with If-Match) and awscli
  nginx-light     # image fetch: https test origin, benchmark static origin
  openssl         # image fetch: the https test's throwaway certificate
  time            # image fetch benchmark: peak RSS (/usr/bin/time -v)
  curl            # image fetch benchmark: single-stream reference
)

log() { printf '\n==> %s\n' "$*" >&2; }

install_apt() {
  local missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# image fetch: moto (the S3 server that answers If-Match with 412) for the
# tests, awscli and s3rver for scripts/bench/fetch.sh.
install_fetch_tools() {
  if [ ! -x "$tools/venv/bin/moto_server" ] || [ ! -x "$tools/venv/bin/aws" ]; then
    log "pip install moto[server] awscli into .tools/venv"
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install -q 'moto[server]' awscli
  fi
  if ! command -v npm >/dev/null; then
    # Only when missing: a NodeSource nodejs already ships npm and conflicts
    # with Debian's npm package.
    apt_packages=(npm); install_apt
  fi
  if [ ! -x "$tools/node/node_modules/.bin/s3rver" ]; then
    log "npm install s3rver into .tools/node"
    npm install --prefix "$tools/node" --no-audit --no-fund -s s3rver >/dev/null
  fi
}

if [ -z "${PM_SKIP_INSTALL:-}" ]; then
  install_apt
  install_fetch_tools
fi

# Tools installed into the repo, found by the tests through PATH.
export PATH="$tools/bin:$tools/node/node_modules/.bin:$PATH"

log "cargo test (unit and end-to-end tests on the host)"
cargo test --locked --all-targets

log "all suites passed"
