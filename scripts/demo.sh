#!/usr/bin/env bash
# Builds pm and runs its main job end to end on embedded defaults, in a
# scratch directory that is removed afterwards. Nothing is downloaded: the
# example root filesystem is made here, then fetched (from its local path),
# validated as hostile input and activated — on a thin snapshot where the
# kernel has device-mapper (and we are root), else on the dir backend.
set -euo pipefail
cd "$(dirname "$0")/.."
# PM_DEMO_PM: an already built pm (e.g. inside the device-mapper test guest,
# where the repository is read-only).
# On a fresh Debian machine with only a Rust toolchain the build needs a few
# Debian packages (scripts/packages.sh): installed here when we may, else
# named with the command that installs them.
source scripts/packages.sh
thin_wanted() { [ "$(id -u)" -eq 0 ] && [ -e /dev/mapper/control ]; }
if [ -n "${PM_DEMO_PM:-}" ]; then
  pm=$PM_DEMO_PM
else
  pm_ensure_packages "${pm_build_packages[@]}"
  cargo build --locked --quiet
  pm="$(pwd)/target/debug/pm"
fi
if thin_wanted; then
  pm_ensure_packages "${pm_thin_packages[@]}"
fi
work=$(mktemp -d)
export PM_STATE="$work/state/state.db"
export PM_POOL_NAME="pmdemo$$"
cleanup() {
  "$pm" -q pool destroy --force >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n$ pm %s\n' "$*" >&2; "$pm" "$@"; }

# A small example root filesystem, made by the repo itself.
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{etc,usr/bin,usr/share/doc,root,tmp,var/log}
chmod 0700 "$rootfs/root"
chmod 1777 "$rootfs/tmp"
printf 'NAME="pm example"\nID=pm-example\n' >"$rootfs/etc/os-release"
echo example >"$rootfs/etc/hostname"
printf '#!/bin/sh\necho "hello from the pm example image"\n' >"$rootfs/usr/bin/hello"
chmod 0755 "$rootfs/usr/bin/hello"
echo "made by scripts/demo.sh" >"$rootfs/usr/share/doc/README"
ln -s usr/bin "$rootfs/bin"
ln -s /usr/share/zoneinfo/UTC "$rootfs/etc/localtime"
tar -C "$rootfs" --owner=0 --group=0 -czf "$work/example-rootfs.tar.gz" .

step --version
step image fetch "$work/example-rootfs.tar.gz"
step image validate "$work/example-rootfs.tar.gz"
if thin_wanted; then
  step pool create --loop-dir "$work/pool" --data-size 1GiB
fi
step image activate "$work/example-rootfs.tar.gz" --name demo
doc=$("$pm" image activate "$work/example-rootfs.tar.gz" --name demo --json)
where=$(printf '%s' "$doc" | sed -n 's/.*"device":"\([^"]*\)".*/\1/p')
[ -n "$where" ] || where=$(printf '%s' "$doc" | sed -n 's/.*"path":"\([^"]*\)".*/\1/p')
printf '\nthe activation lives at: %s\n' "$where"
if [ -d "$where" ]; then
  ls -l "$where"
  "$where/usr/bin/hello"
fi
step image list
step image deactivate demo
step state history
