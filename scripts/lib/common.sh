# Shared by the scripts: repo root, logging, and installing what a fresh
# machine lacks (apt packages, rustup targets and components, npm tools
# cached under target/tools so reruns are fast). Source it; do not run it.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/target/tools"

# The static installers that are built and shipped in the npm package, read
# from shim-js/installers.json: the one list, also read by platform.js.
mapfile -t INSTALLER_TARGETS < <(node -e 'for (const t of require(process.argv[1]).installers) console.log(t)' "$ROOT/shim-js/installers.json")
HOST_TARGET=x86_64-unknown-linux-musl
# Each static installer must stay within this many bytes (2 MiB): the size
# gate in scripts/test fails past it, scripts/bench reports against it.
INSTALLER_BUDGET=$((2 * 1024 * 1024))

# Pinned versions of the cross-build tools, installed under target/tools.
ZIG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.1

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# file_size FILE: its size in bytes (`wc -c`, not GNU-only `stat -c %s`;
# the arithmetic drops the padding BSD wc adds).
file_size() {
  local n
  n=$(wc -c < "$1") || return 1
  echo $((n))
}

APT_UPDATED=0
# ensure_apt CMD PACKAGE: installs PACKAGE unless CMD is already installed
# (on PATH, in an sbin directory a non-root PATH may lack, or, for an
# absolute CMD, at that path).
ensure_apt() {
  local cmd=$1 pkg=$2 d
  case "$cmd" in
    /*) [ -x "$cmd" ] && return 0 ;;
    *)
      command -v "$cmd" >/dev/null 2>&1 && return 0
      for d in /usr/sbin /sbin /usr/local/sbin; do [ -x "$d/$cmd" ] && return 0; done ;;
  esac
  apt_install "$pkg"
}

# apt_install PACKAGE...: installs Debian packages. The scripts that
# install packages (scripts/test, demo, bench, make-sample, build-installers,
# lint-workflows) assume a Debian or Ubuntu machine, as CI is.
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get is not available (the scripts expect Debian or Ubuntu); install $* yourself"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    $sudo apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  say "installing $*"
  # Daemons (nginx, tinyproxy) are only run by the tests, on 127.0.0.1:
  # a policy-rc.d that says no forbids the package scripts from starting a
  # system service on 0.0.0.0. One the machine already has is left alone.
  local policy=/usr/sbin/policy-rc.d
  if [ -e "$policy" ]; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    return
  fi
  # In a subshell whose EXIT trap removes the policy file on every way out:
  # success, a failed install (with or without `set -e`), Ctrl-C, kill. The
  # steps are chained with && because `set -e` does not apply when the
  # caller tests the result (`if ensure_apt ...`).
  (
    trap '$sudo rm -f "$policy"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null &&
      $sudo chmod +x "$policy" &&
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  )
}

ensure_rust_target() {
  rustup target list --installed 2>/dev/null | grep -qx "$1" || { say "rustup target add $1"; rustup target add "$1" >/dev/null; }
}

ensure_rust_src() {
  rustup component list --installed 2>/dev/null | grep -q '^rust-src' || { say "rustup component add rust-src"; rustup component add rust-src >/dev/null; }
}

# Puts zig (PyPI `ziglang`) and cargo-zigbuild (crates.io) on PATH, installing
# them under target/tools once per version.
ensure_zigbuild() {
  local zig_dir="$TOOLS/ziglang-$ZIG_VERSION" czb_dir="$TOOLS/cargo-zigbuild-$CARGO_ZIGBUILD_VERSION"
  if [ ! -x "$zig_dir/ziglang/zig" ]; then
    say "installing zig $ZIG_VERSION (PyPI ziglang)"
    ensure_python_pip
    rm -rf "$zig_dir.tmp"
    python3 -m pip install -q --disable-pip-version-check --no-deps --target "$zig_dir.tmp" "ziglang==$ZIG_VERSION" >&2
    rm -rf "$zig_dir" && mv "$zig_dir.tmp" "$zig_dir"
  fi
  if [ ! -x "$czb_dir/bin/cargo-zigbuild" ]; then
    say "installing cargo-zigbuild $CARGO_ZIGBUILD_VERSION"
    cargo install -q --locked --root "$czb_dir" "cargo-zigbuild@$CARGO_ZIGBUILD_VERSION" >&2
  fi
  PATH="$zig_dir/ziglang:$czb_dir/bin:$PATH"
  export PATH
}

ensure_python_pip() {
  ensure_apt python3 python3
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
}

# Prints the path of target/release/server-fixture, building it if needed.
fixture_bin() {
  (cd "$ROOT" && cargo build -q --release -p server-fixture) >&2
  echo "$ROOT/target/release/server-fixture"
}
