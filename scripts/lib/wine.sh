# Sourced by scripts/test: a wine prefix under target/tools in which the
# Windows installer runs, with what Debian's wine 8 lacks for a Rust exe
# (bcryptprimitives.dll, see tests/wine/bcryptprimitives.c) and the Windows
# test tool hello.exe, both built with mingw-w64. Exports WINEPREFIX,
# WINEDEBUG, WINE64 and POSTBIN_TEST_WINDOWS_TOOL. Needs common.sh.

WINE64=/usr/lib/wine/wine64

ensure_wine() {
  ensure_apt "$WINE64" wine64
  ensure_apt x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64
  export WINEPREFIX="$TOOLS/wine-prefix" WINEDEBUG=-all WINE64
  # No Mono or Gecko installer dialogs: nothing here needs .NET or a browser.
  export WINEDLLOVERRIDES="mscoree,mshtml="
  local system32="$WINEPREFIX/drive_c/windows/system32"
  if [ ! -f "$WINEPREFIX/.postbin-ready" ]; then
    say "creating the wine prefix $WINEPREFIX"
    rm -rf "$WINEPREFIX"
    "$WINE64" wineboot --init >/dev/null 2>&1 || true
    wineserver_wait
    [ -d "$system32" ] || die "wineboot did not create $system32"
    touch "$WINEPREFIX/.postbin-ready"
  fi
  local src="$ROOT/tests/wine" out="$TOOLS/wine-bin"
  mkdir -p "$out"
  if [ ! -f "$system32/bcryptprimitives.dll" ] || [ "$src/bcryptprimitives.c" -nt "$system32/bcryptprimitives.dll" ]; then
    x86_64-w64-mingw32-gcc -shared -O2 -o "$out/bcryptprimitives.dll" "$src/bcryptprimitives.c" -ladvapi32
    cp "$out/bcryptprimitives.dll" "$system32/bcryptprimitives.dll"
  fi
  if [ ! -f "$out/hello.exe" ] || [ "$src/hello.c" -nt "$out/hello.exe" ]; then
    x86_64-w64-mingw32-gcc -O2 -s -o "$out/hello.exe" "$src/hello.c"
  fi
  export POSTBIN_TEST_WINDOWS_TOOL="$out/hello.exe"
}

wineserver_wait() {
  local server
  server=$(command -v wineserver || echo /usr/lib/wine/wineserver64)
  "$server" -w 2>/dev/null || true
}
