# Shared by the scripts: repo root, logging, and installing what a fresh
# machine lacks (apt packages, rustup targets and components, npm tools
# cached under target/tools so reruns are fast). Source it; do not run it.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/target/tools"

# The static installers that are built and shipped in the npm package.
# Keep in step with shim-js/platform.js (the host -> installer table).
INSTALLER_TARGETS=(x86_64-unknown-linux-musl)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

APT_UPDATED=0
# ensure_apt CMD PACKAGE: installs PACKAGE unless CMD is already installed
# (on PATH or in an sbin directory a non-root PATH may lack).
ensure_apt() {
  local cmd=$1 pkg=$2 d
  command -v "$cmd" >/dev/null 2>&1 && return 0
  for d in /usr/sbin /sbin /usr/local/sbin; do [ -x "$d/$cmd" ] && return 0; done
  command -v apt-get >/dev/null 2>&1 || die "$cmd is missing and apt-get is not available; install $pkg"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    $sudo apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  say "installing $pkg"
  # Daemons (nginx, tinyproxy) are only run by the tests, on 127.0.0.1:
  # forbid the package scripts from starting a system service on 0.0.0.0.
  local policy=/usr/sbin/policy-rc.d added=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && added=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
  local rc=$?
  [ "$added" = 1 ] && $sudo rm -f "$policy"
  return $rc
}

ensure_rust_target() {
  rustup target list --installed 2>/dev/null | grep -qx "$1" || { say "rustup target add $1"; rustup target add "$1" >/dev/null; }
}

ensure_rust_src() {
  rustup component list --installed 2>/dev/null | grep -q '^rust-src' || { say "rustup component add rust-src"; rustup component add rust-src >/dev/null; }
}

# Prints the path of target/release/server-fixture, building it if needed.
fixture_bin() {
  (cd "$ROOT" && cargo build -q --release -p server-fixture) >&2
  echo "$ROOT/target/release/server-fixture"
}
