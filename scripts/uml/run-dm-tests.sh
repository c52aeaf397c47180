#!/usr/bin/env bash
# Runs pm's device-mapper tests inside a throwaway User-Mode Linux kernel,
# for hosts whose own kernel has no device-mapper (CI, containers).
#
#   bash scripts/uml/run-dm-tests.sh [TEST FILTER]        # default: thin::
#   PM_UML_COMMAND='target/release/pm ...' bash scripts/uml/run-dm-tests.sh
#       runs a shell command in the guest instead of the tests (benchmarks;
#       the caller builds what the command needs)
#   PM_UML_KERNEL=auto|plain|shim                          # default: auto
#       which way to boot the kernel (see "Choosing the kernel" below)
#
# The test binaries are built on the host; the guest sees the host's root
# read-only through hostfs and runs them unchanged, with the `loop` and
# `dm-thin-pool` modules (and their dependencies) loaded. Exits non-zero when
# the guest's command fails, or when the guest never reports back (with the
# console's tail and a one-line diagnosis). The last line on success names the
# kernel that ran; it is also left in target/uml/kernel.txt.
#
# Choosing the kernel. Debian bookworm's UML is 6.1, which dies at its first
# process on hosts whose XSAVE area is larger than its fixed 2696-byte buffer
# (Intel CPUs with AMX: "ptrace set fp regs failed, errno = 14", fixed
# upstream in 6.13). So:
#   plain  boots linux.uml as it is;
#   shim   boots it with scripts/uml/xstate-shim.c preloaded, which pads UML's
#          one short PTRACE_SETREGSET to the host's size;
#   auto   boots plain, and only on that known panic boots again with the shim
#          and says so. Nothing is assumed from /proc/cpuinfo.
# The shim was chosen over Debian testing's UML 7.2 because it needs nothing
# but bookworm's package and the C compiler cargo already needs, so CI does
# not depend on a suite that moves. Its caveat: UML 6.1 itself loses AVX-512
# register state when a signal interrupts a guest program's vector code. The
# guest's programs therefore avoid AVX-512: glibc is told not to use it
# (GLIBC_TUNABLES, checked below), and the Rust binaries that run in the guest
# are checked to contain no AVX-512 instructions at all.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
filter=${1:-thin::}
tools="$repo/.tools/uml"
work="$repo/target/uml"
kernel_choice=${PM_UML_KERNEL:-auto}
mkdir -p "$tools" "$work"
rm -f "$work/kernel.txt"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'run-dm-tests: %s\n' "$*" >&2; exit 1; }

case "$kernel_choice" in
  auto | plain | shim) ;;
  *) die "PM_UML_KERNEL must be auto, plain or shim (got '$kernel_choice')" ;;
esac

# The kernel and its modules: Debian bookworm's user-mode-linux package,
# downloaded once into .tools/uml and unpacked there (nothing is installed on
# the host). The version is pinned; when bookworm has moved on (a rebuild),
# the script takes the current one and says so, since an old stable build
# disappears from the mirrors.
uml_pin=6.1um4+b13
find_uml() {
  local deb
  deb=$(ls "$tools"/user-mode-linux_*.deb 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    log "fetching user-mode-linux=$uml_pin into $tools"
    if ! (cd "$tools" && apt-get download "user-mode-linux=$uml_pin" >/dev/null 2>&1); then
      (cd "$tools" && { apt-get download user-mode-linux >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null && apt-get download user-mode-linux >/dev/null; }; }) ||
        die "apt-get download user-mode-linux failed (is a Debian mirror reachable?); run bash scripts/test-linux.sh"
    fi
    deb=$(ls "$tools"/user-mode-linux_*.deb | head -n1)
    rm -rf "$tools/root"
  fi
  uml_deb_version=$(dpkg-deb -f "$deb" Version)
  [ "$uml_deb_version" = "$uml_pin" ] ||
    log "note: using user-mode-linux $uml_deb_version, not the pinned $uml_pin (bookworm rebuilt it)"
  [ -x "$tools/root/usr/bin/linux.uml" ] || dpkg -x "$deb" "$tools/root"
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

# The test binary (or pm), built on the host.
if [ -z "${PM_UML_COMMAND:-}" ]; then
  log "building the test binaries"
  test_bin=$(cargo test --locked --no-run --test cli --message-format=json 2>/dev/null |
    grep '"name":"cli"' | grep -o '"executable":"[^"]*"' | sed 's/"executable":"//; s/"$//' | tail -n1)
  [ -x "$test_bin" ] || die "could not find the cli test binary"
  command_line="$test_bin --ignored --test-threads=1 $filter"
  guest_binaries=("$test_bin" "$repo/target/debug/pm")
else
  # The caller builds what its command runs (scripts/bench/activate.sh
  # builds a release pm); whichever pm binaries exist are checked.
  command_line=$PM_UML_COMMAND
  guest_binaries=()
  for bin in "$repo/target/debug/pm" "$repo/target/release/pm"; do
    [ ! -x "$bin" ] || guest_binaries+=("$bin")
  done
fi

# The shim, built once per source change with the host's C compiler.
shim="$work/xstate-shim.so"
build_shim() {
  local src="$repo/scripts/uml/xstate-shim.c"
  if [ ! -f "$shim" ] || [ "$src" -nt "$shim" ]; then
    command -v cc >/dev/null || die "cc missing (apt package gcc): needed for the UML xstate shim"
    cc -O2 -Wall -Werror -shared -fPIC -o "$shim" "$src" -ldl || die "building $src failed"
  fi
}

# glibc in the guest must not pick AVX-512 string functions under the shim
# (see the caveat above). The tunable is checked, not trusted: with it, the
# x86-64-v4 hwcaps level (bit 0 of dl_hwcaps_subdirs_active) must be off.
no_avx512_tunables="glibc.cpu.hwcaps=-AVX512F,-AVX512BW,-AVX512CD,-AVX512DQ,-AVX512VL,-AVX512_VBMI,-AVX512_VBMI2,-AVX512_IFMA,-AVX512_VNNI,-AVX512_BITALG,-AVX512_VPOPCNTDQ,-AVX512_BF16,-AVX512_FP16"
check_guest_avoids_avx512() {
  local active
  active=$(GLIBC_TUNABLES=$no_avx512_tunables /lib64/ld-linux-x86-64.so.2 --list-diagnostics 2>/dev/null |
    sed -n 's/^dl_hwcaps_subdirs_active=//p')
  if [ -n "$active" ] && [ $((active & 1)) -ne 0 ]; then
    die "GLIBC_TUNABLES did not turn AVX-512 off for glibc (hwcaps $active); the shim's caveat is not covered"
  fi
  # Rust code picks instructions at run time (is_x86_feature_detected!),
  # which no tunable reaches. The only AVX-512 code allowed in the binaries
  # that run in the guest is the CRC code of the AWS SDK (crc-fast,
  # crc32fast), which only S3 fetches reach and the guest's tests never
  # make. Any other function with AVX-512 instructions, or calling an
  # AVX-512 intrinsic, stops the run here (scripts/uml/avx512-users.awk).
  local bin users
  command -v objdump >/dev/null || die "objdump missing (apt package binutils): needed to check the guest binaries"
  for bin in ${guest_binaries[@]+"${guest_binaries[@]}"}; do
    users=$(objdump -d --no-show-raw-insn "$bin" | awk -f "$repo/scripts/uml/avx512-users.awk" | sort -u)
    [ -z "$users" ] ||
      die "$bin has AVX-512 code outside the AWS SDK's CRC functions, which UML 6.1 may corrupt under signals: $(echo "$users" | head -n 5 | tr '\n' ' ')"
  done
}

run=$(mktemp -d "$work/run.XXXXXX")
mkdir -p "$run/tmp"
write_job() {
  local tunables=$1
  {
    echo "set -e"
    for m in $modules; do
      # The closure lists paths in the package folder; the guest sees the same paths.
      echo "insmod $m"
    done
    echo "cd $repo"
    echo "export HOME=/run/tmp TMPDIR=/run/tmp PM_IN_UML_GUEST=1 RUST_BACKTRACE=1"
    [ -z "$tunables" ] || echo "export GLIBC_TUNABLES=$tunables"
    echo "$command_line"
  } >"$run/job.sh"
}

# Boots the guest once; `mode` is plain or shim. Leaves the console in
# $run/console.txt and sets uml_rc and guest_rc (empty: no result marker).
boot() {
  local mode=$1 preload=()
  if [ "$mode" = shim ]; then
    build_shim
    check_guest_avoids_avx512
    preload=(env "LD_PRELOAD=$shim")
    write_job "$no_avx512_tunables"
  else
    write_job ""
  fi
  # Scratch block devices for tests that want real disks (/dev/ubda, /dev/ubdb).
  rm -f "$run"/disk-*.img "$run/output.txt" "$run/rc"
  truncate -s "${PM_UML_DISK_A:-1G}" "$run/disk-a.img"
  truncate -s "${PM_UML_DISK_B:-64M}" "$run/disk-b.img"
  log "booting User-Mode Linux $version ($mode)"
  set +e
  # In braces, so bash's own "Aborted" line for a panicked kernel lands in
  # the console file rather than in the log.
  {
    TMPDIR="$run/tmp" timeout -k 10 "${PM_UML_TIMEOUT:-900}" ${preload[@]+"${preload[@]}"} "$uml_kernel" \
      mem="${PM_UML_MEM:-1536M}" root=/dev/root rootfstype=hostfs rootflags=/ ro \
      init="$repo/scripts/uml/init.sh" con0=fd:0,fd:1 con=null ssl=null quiet \
      ubd0="$run/disk-a.img" ubd1="$run/disk-b.img" \
      pm_results="$run" </dev/null
  } >"$run/console.txt" 2>&1
  uml_rc=$?
  set -e
  rm -f "$run"/disk-*.img
  local marker
  marker=$(grep -a -o 'PM-UML-RESULT rc=[0-9]*' "$run/console.txt" | tail -n1 || true)
  guest_rc=${marker#PM-UML-RESULT rc=}
}

xstate_panic() { grep -aq 'ptrace set fp regs failed' "$run/console.txt"; }

# One line that says why a guest never reported a result.
diagnosis() {
  local panic
  if xstate_panic; then
    echo "UML $version cannot restore FP state on this CPU (ptrace set fp regs failed: its XSAVE buffer is smaller than the host's); PM_UML_KERNEL=shim boots it"
  elif [ "$uml_rc" = 124 ] || [ "$uml_rc" = 137 ]; then
    echo "the guest did not finish within PM_UML_TIMEOUT=${PM_UML_TIMEOUT:-900}s and was killed"
  elif panic=$(grep -a -m1 'Kernel panic' "$run/console.txt"); then
    echo "the guest kernel panicked: $panic"
  else
    echo "linux.uml exited $uml_rc before the guest reported a result"
  fi
}

mode=$kernel_choice
[ "$mode" != auto ] || mode=plain
boot "$mode"
if [ -z "$guest_rc" ] && [ "$kernel_choice" = auto ] && xstate_panic; then
  log "UML $version panicked at its first process on this host (the XSAVE bug fixed in Linux 6.13); booting it again with the xstate shim"
  mode=shim
  boot shim
fi

cat "$run/output.txt" 2>/dev/null || true
if [ -z "$guest_rc" ]; then
  tail -n 40 "$run/console.txt" >&2
  die "the guest never reported a result: $(diagnosis)"
fi
kernel="User-Mode Linux $version (Debian user-mode-linux $uml_deb_version)"
[ "$mode" = plain ] || kernel="$kernel with the xstate shim, guest without AVX-512"
echo "$kernel" >"$work/kernel.txt"
if [ "$guest_rc" != 0 ]; then
  die "guest command failed (exit $guest_rc) on $kernel; logs in $run"
fi
rm -rf "$run"
log "guest command passed on $kernel"
