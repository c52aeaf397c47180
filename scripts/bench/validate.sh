#!/usr/bin/env bash
# Benchmark, in two parts.
#
# 1. `pm image validate FILE` against `gzip -dc FILE >/dev/null` on the same
#    generated gzip image, alternating, several runs each. Prints the
#    medians, pm's ratio to gzip, and pm's peak RSS (from /usr/bin/time -v).
#    Targets: ratio <= 1.1, peak RSS < 64 MiB for a 4 GiB unpacked image.
# 2. The worst cases: archives inside the default limits built to cost the
#    validator the most per byte (symlinks chained through long targets, the
#    same gzipped just under the 100:1 ratio guard, names 256 levels deep,
#    nothing but headers, sparse maps that fill their allowance), each
#    validated RUNS times; prints bytes of the file, median time, ns per
#    byte and peak RSS, and which is the slowest per byte. Target: time
#    proportional to size (within a case, per byte of decompressed tar).
#
#   bash scripts/bench/validate.sh              # both; 4 GiB unpacked, 5 runs each
#   SIZE_MIB=512 RUNS=3 bash scripts/bench/validate.sh
#   WORST_ONLY=1 RUNS=3 bash scripts/bench/validate.sh
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
worst_only=${WORST_ONLY:-0}

[ -x /usr/bin/time ] || { echo "missing /usr/bin/time: apt-get install time (or run bash scripts/test-linux.sh)" >&2; exit 1; }

if [ "$worst_only" != 1 ] && [ ! -s "$image" ]; then
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

now() { date +%s.%N; }
calc() { awk "BEGIN {print ($1)}"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

if [ "$worst_only" != 1 ]; then
compressed=$(stat -c %s "$image")
echo "image: $image ($compressed bytes compressed, ${size_mib} MiB unpacked)"

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

g=$(median "${gzip_times[@]}")
p=$(median "${pm_times[@]}")
rss=$(printf '%s\n' "${pm_rss[@]}" | sort -g | tail -1)
ratio=$(calc "$p / $g")
printf '\nmedian gzip -dc: %.2fs   median pm image validate: %.2fs   ratio pm/gzip: %.3f\n' "$g" "$p" "$ratio"
printf 'pm peak RSS: %d KiB (%.1f MiB)\n' "$rss" "$(calc "$rss / 1024")"
printf 'targets: ratio <= 1.1 %s, RSS < 64 MiB %s\n' \
  "$(calc "($ratio <= 1.1) ? \"met\" : \"MISSED\"")" \
  "$( (( rss < 65536 )) && echo met || echo MISSED)"
fi

# --- 2. the worst cases ---------------------------------------------------
echo
echo "worst cases (default limits; generated once in $dir):"
python3 - "$dir" <<'PY'
import base64, gzip, io, os, sys, tarfile

out_dir = sys.argv[1]

def add_link(out, name, target, noise=0):
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    info.mode = 0o777
    if noise:
        # random bytes keep the gzip ratio under the 100:1 guard everywhere
        info.pax_headers = {"comment": base64.b64encode(os.urandom(noise)).decode()}
    out.addfile(info)

def links(out, noise=0):
    # 100,000 links (the entry limit), each through a 4,000-byte detour of
    # `d/..` pairs (within the 4,096-byte path limit), chained 39 deep (40
    # hops) and then fanned in: every component a lookup, every link a
    # chain. Before memoised resolution this shape cost minutes.
    detour = "d/../" * 800
    info = tarfile.TarInfo("d")
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    out.addfile(info)
    add_link(out, "c0", detour + "d", noise)
    for i in range(1, 39):
        add_link(out, f"c{i}", f"{detour}c{i - 1}", noise)
    for j in range(99_900):
        add_link(out, f"t{j}", f"{detour}c38", noise)

def links_gz(out):
    # The same, gzipped as tight as the ratio guard allows: the most work
    # per byte of input file.
    links(out, noise=24)

def deep(out):
    # 99,000 files 256 directories deep (the depth limit).
    prefix = "/".join(["a"] * 255)
    for j in range(99_000):
        info = tarfile.TarInfo(f"{prefix}/f{j}")
        info.mode = 0o644
        out.addfile(info, io.BytesIO(b""))

def headers(out):
    # 99,999 empty files with short names: nothing but headers.
    for j in range(99_999):
        info = tarfile.TarInfo(f"f{j}")
        info.mode = 0o644
        out.addfile(info, io.BytesIO(b""))

def octal(value, width):
    return (b"%0*o" % (width - 1, value)) + b"\0"

def sparse(raw):
    # GNU sparse files whose maps fill the 1 MiB allowance: 42,004 runs of
    # 512 bytes each, four files.
    runs_per_file = 4 + 21 * 2000
    for f in range(4):
        runs = [(i * 4096, 512) for i in range(runs_per_file)]
        stored = 512 * runs_per_file
        b = bytearray(512)
        name = b"s%d" % f
        b[0:len(name)] = name
        b[100:108] = octal(0o644, 8)
        b[108:116] = octal(0, 8)
        b[116:124] = octal(0, 8)
        b[124:136] = octal(stored, 12)
        b[136:148] = octal(1_700_000_000, 12)
        b[156] = ord("S")
        b[257:265] = b"ustar  \0"
        for i, (o, n) in enumerate(runs[:4]):
            b[386 + i * 24:398 + i * 24] = octal(o, 12)
            b[398 + i * 24:410 + i * 24] = octal(n, 12)
        b[482] = 1
        b[483:495] = octal(runs_per_file * 4096, 12)
        b[148:156] = b" " * 8
        b[148:156] = b"%06o\0 " % sum(b)
        raw.write(bytes(b))
        rest = runs[4:]
        for k in range(0, len(rest), 21):
            ext = bytearray(512)
            for i, (o, n) in enumerate(rest[k:k + 21]):
                ext[i * 24:i * 24 + 12] = octal(o, 12)
                ext[i * 24 + 12:i * 24 + 24] = octal(n, 12)
            ext[504] = 1 if k + 21 < len(rest) else 0
            raw.write(bytes(ext))
        raw.write(os.urandom(stored))
    raw.write(b"\0" * 1024)

cases = [("links", links), ("links.gz", links_gz), ("deep", deep), ("headers", headers), ("sparse", sparse)]
for name, build in cases:
    path = os.path.join(out_dir, f"worst-{name}.tar")
    if os.path.exists(path):
        continue
    with open(path + ".partial", "wb") as file:
        raw = gzip.GzipFile(fileobj=file, mode="wb", compresslevel=6) if name.endswith(".gz") else file
        if build is sparse:
            build(raw)
        else:
            with tarfile.open(fileobj=raw, mode="w|", format=tarfile.PAX_FORMAT) as out:
                build(out)
        if raw is not file:
            raw.close()
    os.rename(path + ".partial", path)
PY

slowest="" slowest_ns=0
printf '%-8s %12s %10s %10s %12s\n' archive bytes median ns/byte "peak RSS"
for name in links links.gz deep headers sparse; do
  file="$dir/worst-$name.tar"
  bytes=$(stat -c %s "$file")
  times=() rss=0
  cat "$file" > /dev/null
  for i in $(seq "$runs"); do
    t0=$(now)
    /usr/bin/time -v -o "$state/time.txt" "$pm" image validate "$file" > /dev/null
    t1=$(now)
    times+=("$(calc "$t1 - $t0")")
    r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$state/time.txt")
    (( r > rss )) && rss=$r
  done
  t=$(median "${times[@]}")
  ns=$(calc "$t * 1e9 / $bytes")
  printf '%-8s %12d %9.2fs %10.2f %9.1f MiB\n' "$name" "$bytes" "$t" "$ns" "$(calc "$rss / 1024")"
  if awk "BEGIN {exit !($ns > $slowest_ns)}"; then slowest=$name slowest_ns=$ns; fi
done
printf 'slowest per byte: %s (%.2f ns/byte)\n' "$slowest" "$slowest_ns"
