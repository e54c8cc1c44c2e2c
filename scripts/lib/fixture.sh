# start_fixture ROOT LOGFILE: starts server-fixture on 127.0.0.1 serving ROOT,
# sets FIXTURE_URL and FIXTURE_PID. It exits by itself after --lifetime; the
# caller's trap stops it sooner. Source after common.sh.
start_fixture() {
  local root=$1 log=$2 bin
  bin=$(fixture_bin)
  "$bin" --root "$root" --lifetime 900 >"$log" 2>&1 &
  FIXTURE_PID=$!
  for _ in $(seq 1 100); do
    FIXTURE_URL=$(head -n 1 "$log" 2>/dev/null || true)
    case "$FIXTURE_URL" in http*) return 0 ;; esac
    sleep 0.1
  done
  die "server-fixture did not start (see $log)"
}

stop_fixture() {
  [ -n "${FIXTURE_PID:-}" ] && kill "$FIXTURE_PID" 2>/dev/null && wait "$FIXTURE_PID" 2>/dev/null || true
  FIXTURE_PID=""
}

# Number of requests the fixture has logged (its control endpoint). node,
# which common.sh already needs, reads the JSON.
fixture_requests() {
  curl -s "$FIXTURE_URL/__fixture/requests" |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).length))'
}
