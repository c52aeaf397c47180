#!/usr/bin/env bash
# Benchmark: `pm image validate FILE` against `gzip -dc FILE >/dev/null` on
# the same generated gzip image, alternating, several runs each. Prints the
# medians, pm's ratio to gzip, and pm's peak RSS (from /usr/bin/time -v).
# Targets: ratio <= 1.1, peak RSS < 64 MiB for a 4 GiB unpacked image.
#
#   bash scripts/bench/validate.sh              # 4 GiB unpacked, 5 runs each
#   SIZE_MIB=512 RUNS=3 bash scripts/bench/validate.sh
#
# The image is generated once and kept in $BENCH_DIR (default
# target/bench): a tar of files whose content compresses about 3:1 like a
# root filesystem (random blocks mixed with repetitive text), gzip -6.
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${SIZE_MIB:-4096}
runs=${RUNS:-5}
dir=${BENCH_DIR:-target/bench}
image="$dir/rootfs-${size_mib}MiB.tar.gz"
mkdir -p "$dir"

[ -x /usr/bin/time ] || { echo "missing /usr/bin/time: apt-get install time (or run bash scripts/test-linux.sh)" >&2; exit 1; }

if [ ! -s "$image" ]; then
  echo "generating $image (${size_mib} MiB unpacked)..." >&2
  python3 - "$size_mib" <<'PY' | gzip -6 > "$image.partial"
import io, os, random, sys, tarfile
target = int(sys.argv[1]) << 20
rng = random.Random(42)
words = [b"lib", b"usr", b"share", b"config", b"value", b"the", b"and", b"error", b"0x1f", b"\n", b"  ", b"return", b"static"]
text = b" ".join(rng.choice(words) for _ in range(600_000))[: 4 << 20]
noise = os.urandom(4 << 20)
out = tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.GNU_FORMAT)
written, n = 0, 0
for d in range(64):
    info = tarfile.TarInfo(f"usr/lib/dir{d:03d}")
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    out.addfile(info)
while written < target:
    size = min(rng.choice([2_000, 20_000, 200_000, 1_500_000]), target - written)
    # about one third incompressible: a root filesystem's binaries and text
    src = noise if n % 3 == 0 else text
    start = rng.randrange(0, len(src) - size) if len(src) > size else 0
    info = tarfile.TarInfo(f"usr/lib/dir{n % 64:03d}/file{n:07d}")
    info.size = size
    info.mode = 0o644
    out.addfile(info, io.BytesIO(src[start:start + size]))
    written += size
    n += 1
    if n % 500 == 0:
        link = tarfile.TarInfo(f"usr/lib/dir{n % 64:03d}/link{n:07d}")
        link.type = tarfile.SYMTYPE
        link.linkname = f"file{n - 1:07d}"
        out.addfile(link)
out.close()
PY
  mv "$image.partial" "$image"
fi

echo "building pm (release)..." >&2
cargo build --release --quiet
pm=target/release/pm
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
export PM_STATE="$state/state.db"

compressed=$(stat -c %s "$image")
echo "image: $image ($compressed bytes compressed, ${size_mib} MiB unpacked)"

now() { date +%s.%N; }
calc() { awk "BEGIN {print ($1)}"; }
gzip_times=() pm_times=() pm_rss=()
cat "$image" > /dev/null # warm the page cache for both
for i in $(seq "$runs"); do
  t0=$(now); gzip -dc "$image" > /dev/null; t1=$(now)
  gzip_times+=("$(calc "$t1 - $t0")")
  t0=$(now)
  /usr/bin/time -v -o "$state/time.txt" "$pm" image validate "$image" > /dev/null
  t1=$(now)
  pm_times+=("$(calc "$t1 - $t0")")
  pm_rss+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$state/time.txt")")
  printf 'run %d: gzip -dc %.2fs   pm %.2fs (%s KiB peak RSS)\n' "$i" "${gzip_times[-1]}" "${pm_times[-1]}" "${pm_rss[-1]}"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
g=$(median "${gzip_times[@]}")
p=$(median "${pm_times[@]}")
rss=$(printf '%s\n' "${pm_rss[@]}" | sort -g | tail -1)
ratio=$(calc "$p / $g")
printf '\nmedian gzip -dc: %.2fs   median pm image validate: %.2fs   ratio pm/gzip: %.3f\n' "$g" "$p" "$ratio"
printf 'pm peak RSS: %d KiB (%.1f MiB)\n' "$rss" "$(calc "$rss / 1024")"
printf 'targets: ratio <= 1.1 %s, RSS < 64 MiB %s\n' \
  "$(calc "($ratio <= 1.1) ? \"met\" : \"MISSED\"")" \
  "$( (( rss < 65536 )) && echo met || echo MISSED)"
