#!/usr/bin/env bash
# Wall time of `pm image activate` on the thin backend for a 256 MiB image,
# inside the User-Mode Linux guest (real device-mapper, pool on two ubd
# block devices): the first activation (thin volume + mkfs + unpack +
# snapshot) and a second one (a snapshot of the existing base).
#
#   bash scripts/bench/activate.sh              # release build (default)
#   PM_BENCH_PROFILE=debug bash scripts/bench/activate.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

if [ "${1:-}" != "--guest" ]; then
  profile=${PM_BENCH_PROFILE:-release}
  if [ "$profile" = release ]; then
    cargo build --locked --release --quiet --bin pm
  else
    cargo build --locked --quiet --bin pm
  fi
  PM_UML_COMMAND="bash $repo/scripts/bench/activate.sh --guest $repo/target/$profile/pm" \
    PM_UML_MEM=${PM_UML_MEM:-2048M} PM_UML_DISK_A=3G PM_UML_DISK_B=128M \
    exec bash scripts/uml/run-dm-tests.sh
fi

pm=$2
work=${TMPDIR:-/run/tmp}/bench
mkdir -p "$work/rootfs/usr/lib" "$work/rootfs/etc"
export PM_STATE=$work/state/state.db PM_POOL_NAME=bench PM_POOL_VOLUME_SIZE=1GiB

# The image: 256 MiB of incompressible files of mixed sizes, and many small ones.
for i in $(seq 1 64); do head -c 4M /dev/urandom >"$work/rootfs/usr/lib/blob$i.so"; done
for i in $(seq 1 500); do head -c 8K /dev/urandom >"$work/rootfs/etc/conf$i"; done
tar -C "$work/rootfs" -cf "$work/image.tar" .
rm -rf "$work/rootfs"
size=$(stat -c %s "$work/image.tar")
image=$(sha256sum "$work/image.tar" | cut -c1-64)

"$pm" -q image fetch "$work/image.tar" >/dev/null
"$pm" -q image validate "$work/image.tar" >/dev/null
rm -f "$work/image.tar" # tmpfs: keep only the stored copy
"$pm" -q pool create --data /dev/ubda --metadata /dev/ubdb >/dev/null

now() { date +%s.%N; }
t0=$(now)
"$pm" -q image activate "$image" --backend thin --name first >/dev/null
t1=$(now)
"$pm" -q image activate "$image" --backend thin --name second >/dev/null
t2=$(now)
"$pm" pool status

awk -v size="$size" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
  printf "BENCH image_bytes=%d\n", size
  printf "BENCH thin_first_activation_s=%.2f\n", b - a
  printf "BENCH thin_snapshot_activation_s=%.2f\n", c - b
}'
"$pm" -q pool destroy --force >/dev/null
