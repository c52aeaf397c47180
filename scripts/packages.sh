# Debian packages pm needs, in one place for scripts/demo.sh and
# scripts/test-linux.sh (and the README's Install section). Sourced, not run.
#
#   source scripts/packages.sh
#   pm_ensure_packages "${pm_build_packages[@]}"
#
# PM_NO_INSTALL=1: only check, and name what is missing with the command
# that installs it, instead of installing.

# What `cargo build` needs beyond a Rust toolchain.
pm_build_packages=(
  pkg-config        # the -sys crates find their C libraries with it
  libdevmapper-dev  # devicemapper-sys links libdevmapper (thin pools)
  libclang-dev      # devicemapper-sys generates its bindings with bindgen (libclang)
  gcc libc6-dev     # the C parts: bundled SQLite, zstd, ring
)

# What the main job needs at run time on the thin backend.
pm_thin_packages=(
  e2fsprogs         # mkfs.ext4 for each image's thin volume
)

# The packages of "$@" that are not installed, one per line.
pm_missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

# Installs the missing packages of "$@" with apt-get when this user can
# (root, or sudo without a password) and PM_NO_INSTALL is not set; else
# names them with the one command to run and fails.
pm_ensure_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "pm: not a Debian system (no dpkg-query): make sure these are installed: $*" >&2
    return 0
  fi
  local missing
  mapfile -t missing < <(pm_missing_packages "$@")
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  local command="${sudo:+sudo }apt-get install -y ${missing[*]}"
  if [ -z "${PM_NO_INSTALL:-}" ] && command -v apt-get >/dev/null 2>&1 &&
    { [ -z "$sudo" ] || sudo -n true 2>/dev/null; }; then
    printf '\n==> installing Debian packages pm needs: %s\n' "${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    return 0
  fi
  {
    echo "pm: these Debian packages are needed and not installed: ${missing[*]}"
    echo "pm: install them with: $command"
  } >&2
  return 1
}
