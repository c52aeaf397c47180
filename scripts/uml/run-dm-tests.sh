#!/usr/bin/env bash
# Runs pm's device-mapper tests inside a throwaway User-Mode Linux kernel,
# for hosts whose own kernel has no device-mapper (CI, containers).
#
#   bash scripts/uml/run-dm-tests.sh [TEST FILTER]        # default: thin::
#   PM_UML_COMMAND='target/debug/pm ...' bash scripts/uml/run-dm-tests.sh
#       runs a shell command in the guest instead of the tests (benchmarks)
#
# The test binaries are built on the host; the guest sees the host's root
# read-only through hostfs and runs them unchanged, with the `loop` and
# `dm-thin-pool` modules (and their dependencies) loaded. Exits non-zero when
# the guest's command fails, or when the guest never reports back.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
filter=${1:-thin::}
tools="$repo/.tools/uml"
work="$repo/target/uml"
mkdir -p "$tools" "$work"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'run-dm-tests: %s\n' "$*" >&2; exit 1; }

# The kernel and its modules: the installed package, else its .deb unpacked
# into .tools/uml (nothing installed on the host).
find_uml() {
  if [ -x /usr/bin/linux.uml ] && [ -d /usr/lib/uml/modules ]; then
    uml_kernel=/usr/bin/linux.uml
    uml_modules=/usr/lib/uml/modules
    return
  fi
  if [ ! -x "$tools/root/usr/bin/linux.uml" ]; then
    log "fetching the user-mode-linux package into $tools"
    (cd "$tools" && { apt-get download user-mode-linux >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null && apt-get download user-mode-linux >/dev/null; }; }) ||
      die "apt-get download user-mode-linux failed; run bash scripts/test-linux.sh"
    dpkg -x "$tools"/user-mode-linux_*.deb "$tools/root"
  fi
  uml_kernel="$tools/root/usr/bin/linux.uml"
  uml_modules="$tools/root/usr/lib/uml/modules"
}
find_uml
version=$(ls "$uml_modules" | head -n1)
[ -n "$version" ] || die "no modules under $uml_modules"
command -v depmod >/dev/null || die "depmod missing (apt package kmod); run bash scripts/test-linux.sh"
command -v busybox >/dev/null || die "busybox missing (apt package busybox-static); run bash scripts/test-linux.sh"

# Module closure of loop + dm-thin-pool, in load order.
modroot="$work/modroot"
rm -rf "$modroot"
mkdir -p "$modroot/lib/modules"
ln -s "$uml_modules/$version" "$modroot/lib/modules/$version"
depmod -b "$modroot" "$version" 2>/dev/null || true
modules=$(for m in loop dm-thin-pool; do
  modprobe -d "$modroot" -S "$version" --show-depends "$m"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }')

# The test binary, built on the host.
if [ -z "${PM_UML_COMMAND:-}" ]; then
  log "building the test binaries"
  test_bin=$(cargo test --locked --no-run --test cli --message-format=json 2>/dev/null |
    grep '"name":"cli"' | grep -o '"executable":"[^"]*"' | sed 's/"executable":"//; s/"$//' | tail -n1)
  [ -x "$test_bin" ] || die "could not find the cli test binary"
  command_line="$test_bin --ignored --test-threads=1 $filter"
else
  cargo build --locked --quiet
  command_line=$PM_UML_COMMAND
fi

run=$(mktemp -d "$work/run.XXXXXX")
mkdir -p "$run/tmp"
{
  echo "set -e"
  for m in $modules; do
    # The closure lists paths in the package folder; the guest sees the same paths.
    echo "insmod $m"
  done
  echo "cd $repo"
  echo "export HOME=/run/tmp TMPDIR=/run/tmp PM_IN_UML_GUEST=1 RUST_BACKTRACE=1"
  echo "$command_line"
} >"$run/job.sh"

# Scratch block devices for tests that want real disks (/dev/ubda, /dev/ubdb).
truncate -s "${PM_UML_DISK_A:-1G}" "$run/disk-a.img"
truncate -s "${PM_UML_DISK_B:-64M}" "$run/disk-b.img"

log "booting User-Mode Linux $version"
set +e
TMPDIR="$run/tmp" timeout -k 10 "${PM_UML_TIMEOUT:-900}" "$uml_kernel" \
  mem="${PM_UML_MEM:-1536M}" root=/dev/root rootfstype=hostfs rootflags=/ ro \
  init="$repo/scripts/uml/init.sh" con0=fd:0,fd:1 con=null ssl=null quiet \
  ubd0="$run/disk-a.img" ubd1="$run/disk-b.img" \
  pm_results="$run" </dev/null >"$run/console.txt" 2>&1
uml_rc=$?
set -e
cat "$run/output.txt" 2>/dev/null || true
marker=$(grep -a -o 'PM-UML-RESULT rc=[0-9]*' "$run/console.txt" | tail -n1 || true)
if [ -z "$marker" ]; then
  tail -n 40 "$run/console.txt" >&2
  die "the guest never reported a result (uml exit $uml_rc)"
fi
rc=${marker#PM-UML-RESULT rc=}
rm -f "$run"/disk-*.img
if [ "$rc" != 0 ]; then
  die "guest command failed (exit $rc); logs in $run"
fi
log "guest command passed"
