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

# Debian packages the build and the tests use: the build's and the thin
# backend's from scripts/packages.sh (shared with scripts/demo.sh), then the
# tests' own.
source scripts/packages.sh
apt_packages=(
  "${pm_build_packages[@]}"
  "${pm_thin_packages[@]}"
  # pool/activate (issue 6): the User-Mode Linux guest that runs the
  # device-mapper tests
  busybox-static kmod util-linux
  python3-venv    # image fetch: moto (S3 server with If-Match) and awscli
  nginx-light     # image fetch: https test origin, benchmark static origin
  openssl         # image fetch: the https test's throwaway certificate
  time            # /usr/bin/time -v: peak RSS (validate and fetch benchmarks)
  curl            # image fetch benchmark: single-stream reference
  binutils        # the UML xstate shim's AVX-512 check (gcc is a build package)
  chromium        # inspect: the HTML report opened in real headless Chromium
  iproute2        # provider: the Ray tests' network namespaces (ip netns, veth)
  jq              # examples/shell: the shell examples read pm's JSON with it
)

log() { printf '\n==> %s\n' "$*" >&2; }

install_apt() {
  pm_ensure_packages "${apt_packages[@]}"
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

# inspect: the real Prometheus text parser (prometheus_client) that reads
# `pm doctor --textfile-dir`'s file in the tests, in the same venv.
install_inspect_tools() {
  if ! "$tools/venv/bin/python" -c 'import prometheus_client' 2>/dev/null; then
    log "pip install prometheus_client into .tools/venv"
    [ -x "$tools/venv/bin/pip" ] || python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install -q prometheus_client
  fi
}

if [ -z "${PM_SKIP_INSTALL:-}" ]; then
  install_apt
  install_fetch_tools
  install_inspect_tools
fi

# vault: the real Bitwarden CLI, an npm package under .tools/node (the vault
# tests run it on an offline fixture; the version is the one verified).
bw_version=2026.6.0
install_bw() {
  local manifest="$tools/node/node_modules/@bitwarden/cli/package.json"
  grep -q "\"version\": \"$bw_version\"" "$manifest" 2>/dev/null && return 0
  if ! command -v npm >/dev/null; then
    log "apt-get install nodejs npm (for the bw CLI)"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  log "npm install @bitwarden/cli@$bw_version"
  npm install --prefix "$tools/node" --no-audit --no-fund "@bitwarden/cli@$bw_version" >/dev/null
}
if [ -z "${PM_SKIP_INSTALL:-}" ]; then
  install_bw
fi

# net (issue 13): `pm play` runs the real ansible-core, pinned to the
# series that still installs on Debian 12's Python 3.11 (2.20+ need 3.12).
ansible_series=2.19
install_ansible() {
  # The physical path: the venv's scripts name their interpreter by it, and
  # .tools may be a symlink shared by several checkouts.
  local venv
  venv="$(cd "$tools" && pwd -P)/venv-ansible"
  "$venv/bin/ansible-playbook" --version 2>/dev/null | grep -q "^ansible-playbook \[core $ansible_series\." &&
    return 0
  log "pip install ansible-core==$ansible_series.* into .tools/venv-ansible"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --no-cache-dir "ansible-core==$ansible_series.*"
}
if [ -z "${PM_SKIP_INSTALL:-}" ]; then
  install_ansible
fi

# ansible (issue 16): `ansible-test sanity` on the pm.platform collection
# (ansible/), which the tests run with no network. ansible-test makes one
# virtual environment per sanity test under ~/.ansible/test and pip-installs
# its pinned requirements into it, after bootstrapping pip with get-pip.py
# from ci-files.testing.ansible.com. Here, once per ansible-core version, a
# sanity run with network makes those environments under
# .tools/ansible-test-home (the HOME the tests give ansible-test), with
# scripts/ansible-test-get-pip.py as the bootstrap script: pip from its wheel
# on PyPI, since that host is not reachable from every CI.
install_ansible_test() {
  local tools_p venv home version python pip_version cache work
  tools_p="$(cd "$tools" && pwd -P)"
  venv="$tools_p/venv-ansible"
  home="$tools_p/ansible-test-home"
  version=$("$venv/bin/python" -c 'import ansible; print(ansible.__version__)')
  [ -f "$home/ready-$version" ] && return 0
  log "ansible-test sanity environments for ansible-core $version into .tools/ansible-test-home"
  python=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" \
    "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py)
  [ -n "$pip_version" ] || { echo "cannot tell which pip ansible-test $version bootstraps" >&2; return 1; }
  cache="$home/.ansible/test/cache"
  rm -rf "$home"
  mkdir -p "$cache/wheels"
  "$venv/bin/pip" download -q --no-cache-dir --no-deps -d "$cache/wheels" "pip==$pip_version"
  cp scripts/ansible-test-get-pip.py "$cache/get_pip_${pip_version//./_}.py"
  work=$(mktemp -d)
  ANSIBLE_HOME="$work/home" "$venv/bin/ansible-galaxy" collection build ansible/ --output-path "$work" >/dev/null
  ANSIBLE_HOME="$work/home" "$venv/bin/ansible-galaxy" collection install "$work"/pm-platform-*.tar.gz -p "$work/c" >/dev/null 2>&1
  # Whether the collection passes is the tests' business; this run only
  # makes the environments (each test's is made before it runs).
  (cd "$work/c/ansible_collections/pm/platform" &&
    HOME="$home" ANSIBLE_HOME="$work/home" LC_ALL=C.UTF-8 \
      "$venv/bin/ansible-test" sanity --local --python "$python" --color no >"$work/sanity.log" 2>&1) || true
  if ! compgen -G "$home/.ansible/test/venv/sanity.validate-modules/$python/*/marker.txt" >/dev/null; then
    cat "$work/sanity.log" >&2
    rm -rf "$work"
    echo "ansible-test made no sanity environments" >&2
    return 1
  fi
  rm -rf "$work"
  touch "$home/ready-$version"
}
if [ -z "${PM_SKIP_INSTALL:-}" ]; then
  install_ansible_test
fi

# provider (issue 15): Ray for the onboarding tests. One download into a
# wheelhouse inside the repo (.tools/wheels-ray, ~80 MB); the head's venv
# (.tools/venv-ray, ~285 MB) is installed from it offline, and so is the
# venv `pm provider onboard` makes in the tests (provider.wheelhouse), so
# Ray is downloaded once per run and nothing is cached outside the repo.
# Plain `ray`, not `ray[default]`: pm reads the node list through the GCS
# client, which needs no dashboard. The tests also need a second Python of
# the same minor version (Debian's python3 beside pyenv's) and iproute2.
ray_spec='ray==2.60.*'
install_ray() {
  local venv="$tools/venv-ray" wheels="$tools/wheels-ray"
  if [ -x "$venv/bin/ray" ] && compgen -G "$wheels/ray-2.60.*.whl" >/dev/null &&
    "$venv/bin/python" -c 'import ray, sys; sys.exit(not ray.__version__.startswith("2.60."))' 2>/dev/null; then
    return 0
  fi
  log "pip download $ray_spec into .tools/wheels-ray, install it into .tools/venv-ray"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" download --no-cache-dir -q -d "$wheels" "$ray_spec"
  "$venv/bin/pip" install --no-cache-dir -q --no-index --find-links "$wheels" "$ray_spec"
}
if [ -z "${PM_SKIP_INSTALL:-}" ]; then
  install_ray
fi

# Tools installed into the repo, found by the tests through PATH.
export PATH="$tools/bin:$tools/node/node_modules/.bin:$PATH"

log "cargo fmt --check, cargo clippy -D warnings"
cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
log "type-check for macOS (scripts/check-macos-build.sh)"
bash scripts/check-macos-build.sh

# net (issue 13): the tailscale/tailscaled stand-ins check themselves against
# the reference's messages before the pm tests rely on them.
log "stand-ins self-test (tests/standins)"
python3 -m unittest discover -s tests/standins

log "cargo test (unit and end-to-end tests on the host)"
cargo test --locked --all-targets

# Failpoints exist only in test builds (the failpoints feature): a normal
# build must ignore PM_FAILPOINTS. The tests' binary is rebuilt right after.
no_test_hooks() {
  log "a normal build carries no failpoints"
  cargo build --locked --quiet --bin pm
  local state
  state=$(mktemp -d)
  PM_STATE="$state/state.db" PM_FAILPOINTS=lock_held=kill target/debug/pm -q state prune --older-than 1d ||
    { echo "a normal build acted on PM_FAILPOINTS" >&2; exit 1; }
  rm -rf "$state"
}
no_test_hooks

# pool/activate (issue 6): the device-mapper tests, in a throwaway kernel.
# The harness chooses how to boot UML on this CPU (scripts/uml/run-dm-tests.sh);
# both ways are exercised on every machine: when the plain kernel boots here,
# the tests run a second time through the xstate shim. A guest command that
# fails must fail the harness, never pass silently.
dm_tests() {
  log "device-mapper tests inside User-Mode Linux"
  bash scripts/uml/run-dm-tests.sh
  dm_kernel=$(cat target/uml/kernel.txt)
  if [[ "$dm_kernel" != *"xstate shim"* ]]; then
    log "device-mapper tests again, through the xstate shim (PM_UML_KERNEL=shim)"
    PM_UML_KERNEL=shim bash scripts/uml/run-dm-tests.sh
    dm_kernel="$dm_kernel; again on $(cat target/uml/kernel.txt)"
  fi
  log "the UML harness reports a failing guest command"
  if PM_UML_COMMAND='exit 7' bash scripts/uml/run-dm-tests.sh 2>target/uml/self-test.log; then
    cat target/uml/self-test.log >&2
    echo "run-dm-tests.sh passed a guest command that failed" >&2
    exit 1
  fi
  grep -q 'guest command failed (exit 7)' target/uml/self-test.log || {
    cat target/uml/self-test.log >&2
    exit 1
  }
}
dm_tests
# The image validator's fuzz target (cargo-fuzz, libFuzzer). Only a stable
# toolchain is available, so RUSTC_BOOTSTRAP=1 unlocks the -Z flags
# cargo-fuzz passes; without a working sanitizer it builds with -s none.
fuzz_validate() {
  if ! command -v cargo-fuzz >/dev/null; then
    log "cargo install cargo-fuzz"
    cargo install cargo-fuzz --locked --root "$tools"
  fi
  local sanitizer=(-s address)
  # One build for both targets (validate, and the differential harness
  # that compares what the unpacker writes with what the validator saw).
  log "cargo fuzz build (validate, differential)"
  if ! (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build "${sanitizer[@]}"); then
    log "the address sanitizer build failed; building without a sanitizer"
    sanitizer=(-s none)
    (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build "${sanitizer[@]}")
  fi
  # Seeds: small real archives, so the fuzzer starts from valid tar streams.
  local corpus=fuzz/corpus/validate seed
  mkdir -p "$corpus"
  seed=$(mktemp -d)
  mkdir -p "$seed/root/bin" "$seed/root/etc"
  echo busybox > "$seed/root/bin/busybox"
  ln -sf busybox "$seed/root/bin/sh"
  ln -sf /proc/self/mounts "$seed/root/etc/mtab"
  ln -f "$seed/root/bin/busybox" "$seed/root/bin/ls"
  tar --format=gnu -C "$seed/root" -cf "$corpus/seed-gnu.tar" .
  tar --format=pax -C "$seed/root" -cf "$corpus/seed-pax.tar" .
  tar --format=pax -C "$seed/root" -czf "$corpus/seed-pax.tar.gz" .
  rm -rf "$seed"
  # The time is shared between the two targets, which start from the same seeds.
  local seconds=$(( ${PM_FUZZ_SECONDS:-60} / 2 )) target
  for target in validate differential; do
    log "cargo fuzz run $target for ${seconds}s"
    (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run "${sanitizer[@]}" "$target" corpus/validate -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20)
  done
}
fuzz_validate

log "all suites passed; the device-mapper tests ran on $dm_kernel"
