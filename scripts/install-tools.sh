#!/usr/bin/env bash
# Installs the tools Bulwark's tests and CI need, into caches outside the repo.
# Idempotent; takes seconds when everything is cached. Exits non-zero with a
# message naming the step when something cannot be installed.
#
#   Node 24                      $BULWARK_NODE_DIR (default ~/.cache/node24), from the npm `node` package
#   victoria-metrics, promtool,  Debian trixie .debs unpacked with dpkg -x (no system install)
#   docker-compose, amtool,
#   prometheus-alertmanager
#   redis-server                 apt-get install redis-server (bookworm) when missing
#   otelcol-bulwark              OpenTelemetry Collector built with the Collector Builder from
#                                otel-collector/builder-config.yaml; rebuilt only when the manifest,
#                                the builder version or the Go version changes
#   prometheus, promtool-v3      Prometheus v3 (the version docker-compose.yml pins) built from its Go
#                                module, without cloud service discovery: Debian's Prometheus builds
#                                cannot ingest OTLP and Debian's promtool 2.53 rejects v3 keys (otlp:)
#   jaeger                       Jaeger v2 (the trace store of test/stack/jaeger.test.ts) built from
#                                github.com/jaegertracing/jaeger/cmd/jaeger with `go get -tool` in a
#                                scratch module; rebuilt only when its version or the Go version changes.
#                                The longest build: started first, in the background, waited for last
#   venv-gateway                 a Python venv with the pinned `openai` client (scripts/python-venv.sh gateway,
#                                scripts/python/gateway-requirements.txt) for test/gateway/python.test.ts;
#                                skipped, saying so, when python3 is missing (an error under CI=true)
#
# Everything lands in $BULWARK_TOOLS_DIR (default ~/.cache/bulwark-tools); the binaries
# are linked from $BULWARK_TOOLS_DIR/bin, which test/support/tools.ts looks in.
#
# Environment:
#   BULWARK_TOOLS_DIR         cache folder (default ~/.cache/bulwark-tools)
#   BULWARK_NODE_DIR          Node 24 prefix (default ~/.cache/node24)
#   BULWARK_SKIP_COLLECTOR=1  skip the collector build (its tests then fail under CI=true)
#   BULWARK_SKIP_PROMETHEUS=1 skip the Prometheus v3 build (its tests then fail under CI=true)
#   BULWARK_SKIP_REDIS=1      skip the redis-server install
#   BULWARK_SKIP_JAEGER=1     skip the Jaeger build (its tests then fail under CI=true)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${BULWARK_TOOLS_DIR:-$HOME/.cache/bulwark-tools}"
NODE_DIR="${BULWARK_NODE_DIR:-$HOME/.cache/node24}"
BIN="$TOOLS_DIR/bin"

NODE_MAJOR=24
# Debian trixie packages, pinned. If the mirror has moved on (a point release), the
# current trixie version is taken instead, with a warning.
DEB_SUITE=trixie
DEBS=(
  "victoria-metrics=1.112.0+ds1-2"
  "promtool=2.53.3+ds1-2"
  "docker-compose=2.26.1-4"
  "prometheus-alertmanager=0.28.1+ds-1"
)
# Collector Builder; keep in step with the versions in otel-collector/builder-config.yaml.
# (v0.163.0+ cannot be built here: the Go module proxy answers 403 "This module version is
# not available" for go.opentelemetry.io/collector/internal/statusutil, which they need.)
OCB_VERSION=v0.162.0
MANIFEST="$REPO_ROOT/otel-collector/builder-config.yaml"
# Prometheus v3 = Go module github.com/prometheus/prometheus v0.3MM.P; keep equal to the
# prom/prometheus image tag in docker-compose.yml.
PROMETHEUS_VERSION=3.15.0
PROMETHEUS_MODULE_VERSION=v0.315.0
# Jaeger v2 = Go module github.com/jaegertracing/jaeger v1.75.0 (its cmd/jaeger is Jaeger v2; newer
# module versions are served but not approved releases here).
JAEGER_VERSION=v1.75.0

log() { printf '[install-tools] %s\n' "$*" >&2; }
die() { printf '[install-tools] ERROR: %s\n' "$*" >&2; exit 1; }
step() { CURRENT_STEP="$1"; log "$1"; }
CURRENT_STEP=start
trap 'rc=$?; if [ $rc -ne 0 ]; then printf "[install-tools] FAILED during: %s (exit %s)\n" "$CURRENT_STEP" "$rc" >&2; fi' EXIT

mkdir -p "$TOOLS_DIR" "$BIN"
# Go is often installed outside the default PATH.
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then export PATH="$PATH:/usr/local/go/bin"; fi
# One installer at a time per cache (CI jobs and engineers share machines).
exec 9>"$TOOLS_DIR/.install.lock"
flock 9

hash_of() { sha256sum | cut -c1-64; }

# ---------------------------------------------------------------------------- Node 24
install_node() {
  step "Node $NODE_MAJOR"
  local node="$NODE_DIR/node_modules/.bin/node"
  if [ -x "$node" ] && [ "$("$node" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" = "$NODE_MAJOR" ]; then
    return
  fi
  command -v npm >/dev/null || die "npm is needed to install Node $NODE_MAJOR (npm package 'node@$NODE_MAJOR') and none is on PATH"
  log "installing node@$NODE_MAJOR from the npm registry into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-save --no-audit --no-fund "node@$NODE_MAJOR" >&2 \
    || die "npm install node@$NODE_MAJOR failed"
  [ -x "$node" ] || die "node@$NODE_MAJOR installed but $node is missing"
  "$node" -v >/dev/null || die "$node does not run"
}

# ---------------------------------------------------------------------------- Debian .debs
debian_uri() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    # deb822: take the URIs of the stanza that is not the security archive.
    uri="$(awk '
      /^[[:space:]]*$/ { if (u != "" && s !~ /security/) { print u; exit } u=""; s=""; next }
      /^URIs:/ { u=$2 } /^Suites:/ { s=$0 }
      END { if (u != "" && s !~ /security/) print u }' /etc/apt/sources.list.d/debian.sources | head -n1)"
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

install_debs() {
  step "Debian $DEB_SUITE packages: ${DEBS[*]}"
  local stamp="$TOOLS_DIR/debs.stamp" want
  want="$(printf '%s\n' "$DEB_SUITE" "${DEBS[@]}" | hash_of)"
  if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$want" ] \
    && [ -x "$BIN/victoria-metrics" ] && [ -x "$BIN/promtool" ] && [ -x "$BIN/docker-compose" ] && [ -x "$BIN/amtool" ]; then
    return
  fi
  command -v apt-get >/dev/null || die "apt-get is needed to fetch the Debian packages"
  command -v dpkg >/dev/null || die "dpkg is needed to unpack the Debian packages"
  local uri d A
  uri="$(debian_uri)"
  d="$TOOLS_DIR/apt"
  rm -rf "$d/debs"
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/debs"
  echo "deb $uri $DEB_SUITE main" > "$d/sources.list"
  A=(-o "Dir::Etc::sourcelist=$d/sources.list" -o "Dir::Etc::sourceparts=-"
     -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o "APT::Sandbox::User=$(id -un)"
     -o "Acquire::Languages=none" -o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
     -o "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false"
     -o "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false")
  log "apt-get update ($uri $DEB_SUITE, private state in $d)"
  apt-get "${A[@]}" -q update >&2 || die "apt-get update of $uri $DEB_SUITE failed"
  local spec pkg ver cand
  local -a get=()
  for spec in "${DEBS[@]}"; do
    pkg="${spec%%=*}"; ver="${spec#*=}"
    cand="$(apt-cache "${A[@]}" policy "$pkg" | awk '/Candidate:/ { print $2 }')"
    if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then die "$pkg is not in $uri $DEB_SUITE"; fi
    if apt-cache "${A[@]}" madison "$pkg" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | grep -qxF "$ver"; then
      get+=("$pkg=$ver")
    else
      log "WARNING: $pkg $ver is no longer on the mirror; using $DEB_SUITE's current $cand"
      get+=("$pkg=$cand")
    fi
  done
  (cd "$d/debs" && apt-get "${A[@]}" -q download "${get[@]}" >&2) || die "apt-get download ${get[*]} failed"
  rm -rf "$TOOLS_DIR/root.new"
  local f
  for f in "$d"/debs/*.deb; do
    dpkg -x "$f" "$TOOLS_DIR/root.new" || die "dpkg -x $f failed"
  done
  rm -rf "$TOOLS_DIR/root"
  mv "$TOOLS_DIR/root.new" "$TOOLS_DIR/root"
  local R="$TOOLS_DIR/root/usr"
  ln -sfn "$R/bin/victoria-metrics" "$BIN/victoria-metrics"
  ln -sfn "$R/bin/victoria-metrics" "$BIN/victoria-metrics-prod"
  ln -sfn "$R/bin/promtool" "$BIN/promtool"
  ln -sfn "$R/libexec/docker/cli-plugins/docker-compose" "$BIN/docker-compose"
  ln -sfn "$R/bin/amtool" "$BIN/amtool"
  ln -sfn "$R/bin/prometheus-alertmanager" "$BIN/alertmanager"
  ln -sfn "$R/bin/prometheus-alertmanager" "$BIN/prometheus-alertmanager"
  for f in victoria-metrics promtool docker-compose amtool alertmanager; do
    [ -x "$BIN/$f" ] || die "$f is missing after unpacking the .debs"
  done
  { echo "$want"; for f in "$d"/debs/*.deb; do dpkg-deb --showformat='${Package} ${Version}\n' -W "$f"; done; } > "$stamp"
  rm -rf "$d/debs" "$d/cache/archives"/*.deb
}

# ---------------------------------------------------------------------------- redis-server
install_redis() {
  step "redis-server"
  if [ "${BULWARK_SKIP_REDIS:-}" = 1 ]; then log "skipped (BULWARK_SKIP_REDIS=1)"; return; fi
  if ! command -v redis-server >/dev/null; then
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
      command -v sudo >/dev/null && sudo -n true 2>/dev/null || die "redis-server is missing and installing it needs root (apt-get install -y redis-server)"
      sudo="sudo -n"
    fi
    log "apt-get install -y redis-server"
    $sudo apt-get -q update >&2 || die "apt-get update failed"
    # The package's postinst may try to start a service; there is no init system here and tests start their own.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends redis-server >&2 \
      || die "apt-get install redis-server failed"
  fi
  ln -sfn "$(command -v redis-server)" "$BIN/redis-server"
}

# ---------------------------------------------------------------------------- OpenTelemetry Collector
install_collector() {
  step "OpenTelemetry Collector (builder $OCB_VERSION, $MANIFEST)"
  if [ "${BULWARK_SKIP_COLLECTOR:-}" = 1 ]; then log "skipped (BULWARK_SKIP_COLLECTOR=1)"; return; fi
  [ -f "$MANIFEST" ] || die "missing $MANIFEST"
  command -v go >/dev/null || die "Go is needed to build the collector (go install go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION) and none is on PATH"
  local want stamp="$TOOLS_DIR/otelcol/manifest.sha256"
  want="$({ grep -v '^[[:space:]]*#' "$MANIFEST"; echo "$OCB_VERSION"; go env GOVERSION; } | hash_of)"
  if [ -x "$BIN/otelcol-bulwark" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  go_env
  local ocb="$GOBIN/builder"
  if ! { [ -x "$ocb" ] && "$ocb" version 2>&1 | grep -qF "$OCB_VERSION"; }; then
    log "go install go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION"
    (cd "$TOOLS_DIR" && go install "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION") >&2 \
      || die "go install go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION failed"
  fi
  local work="$TOOLS_DIR/otelcol/build"
  rm -rf "$work"
  mkdir -p "$work"
  # Same manifest, with the output folder in the cache.
  awk -v out="$work/dist" '{ print } /^dist:[[:space:]]*$/ { print "  output_path: " out }' "$MANIFEST" > "$work/manifest.yaml"
  log "building the collector (first build: a few minutes; log in $work/build.log)"
  local t0=$SECONDS
  if ! (cd "$work" && "$ocb" --config "$work/manifest.yaml" > "$work/build.log" 2>&1); then
    tail -n 40 "$work/build.log" >&2
    die "the OpenTelemetry Collector Builder failed (full log: $work/build.log)"
  fi
  log "collector built in $((SECONDS - t0))s"
  "$work/dist/otelcol-bulwark" --version >/dev/null || die "the built collector does not run"
  cp "$work/dist/otelcol-bulwark" "$BIN/otelcol-bulwark.new"
  mv -f "$BIN/otelcol-bulwark.new" "$BIN/otelcol-bulwark"
  echo "$want" > "$stamp"
  rm -rf "$work/dist"
}

# ---------------------------------------------------------------------------- Prometheus v3
go_env() {
  export GOPATH="$TOOLS_DIR/go/path" GOCACHE="$TOOLS_DIR/go/cache" GOMODCACHE="$TOOLS_DIR/go/modcache"
  export GOBIN="$TOOLS_DIR/go/bin" GOFLAGS=-modcacherw GOTOOLCHAIN=local CGO_ENABLED=0
  mkdir -p "$GOPATH" "$GOCACHE" "$GOMODCACHE" "$GOBIN"
}

install_prometheus() {
  step "Prometheus $PROMETHEUS_VERSION (github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION)"
  if [ "${BULWARK_SKIP_PROMETHEUS:-}" = 1 ]; then log "skipped (BULWARK_SKIP_PROMETHEUS=1)"; return; fi
  command -v go >/dev/null || die "Go is needed to build Prometheus $PROMETHEUS_VERSION and none is on PATH"
  local want stamp="$TOOLS_DIR/prometheus/stamp"
  want="$({ echo "$PROMETHEUS_VERSION $PROMETHEUS_MODULE_VERSION remove_all_sd"; go env GOVERSION; } | hash_of)"
  if [ -x "$BIN/prometheus" ] && [ -x "$BIN/promtool-v3" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  go_env
  local src="$TOOLS_DIR/prometheus/src" out="$TOOLS_DIR/prometheus/out" dir
  dir="$(cd "$TOOLS_DIR" && GOWORK=off go mod download -json "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')" \
    || die "go mod download github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION failed"
  [ -n "$dir" ] && [ -d "$dir" ] || die "go mod download github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION gave no source folder"
  # Its go.mod has replace directives, so `go install pkg@version` refuses it: build it as the main module.
  rm -rf "$src" "$out"
  mkdir -p "$(dirname "$src")" "$out"
  cp -r "$dir" "$src"
  chmod -R u+w "$src"
  local v=github.com/prometheus/common/version
  log "building prometheus + promtool (first build: several minutes; log in $TOOLS_DIR/prometheus/build.log)"
  local t0=$SECONDS
  # -tags remove_all_sd: without the cloud service-discovery plugins (AWS, Kubernetes, ...), which
  # are most of the build time; file/http/static discovery stay. The shipped config uses static_configs.
  if ! (cd "$src" && GOWORK=off go build -trimpath -tags remove_all_sd \
      -ldflags "-s -w -X $v.Version=$PROMETHEUS_VERSION -X $v.Revision=$PROMETHEUS_MODULE_VERSION -X $v.Branch=HEAD -X $v.BuildUser=bulwark-install-tools" \
      -o "$out/" ./cmd/prometheus ./cmd/promtool > "$TOOLS_DIR/prometheus/build.log" 2>&1); then
    tail -n 40 "$TOOLS_DIR/prometheus/build.log" >&2
    die "building Prometheus $PROMETHEUS_VERSION failed (full log: $TOOLS_DIR/prometheus/build.log)"
  fi
  log "prometheus built in $((SECONDS - t0))s"
  "$out/prometheus" --version >/dev/null 2>&1 || die "the built prometheus does not run"
  mv -f "$out/prometheus" "$BIN/prometheus"
  mv -f "$out/promtool" "$BIN/promtool-v3"
  echo "$want" > "$stamp"
  rm -rf "$src" "$out"
}

# ---------------------------------------------------------------------------- Jaeger v2
# Jaeger v2 = an OpenTelemetry Collector distribution that stores and serves traces; the trace store
# of test/stack/jaeger.test.ts. Built from the Go module proxy in a scratch module in the cache
# (`go get -tool`), rebuilt only when JAEGER_VERSION or the Go version changes. It is the longest
# build here, so the script starts it in the background first and waits for it at the end.
install_jaeger() {
  step "Jaeger $JAEGER_VERSION (github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION)"
  if [ "${BULWARK_SKIP_JAEGER:-}" = 1 ]; then log "skipped (BULWARK_SKIP_JAEGER=1)"; return; fi
  command -v go >/dev/null || die "Go is needed to build Jaeger $JAEGER_VERSION and none is on PATH"
  local want stamp="$TOOLS_DIR/jaeger/stamp"
  want="$({ echo "$JAEGER_VERSION"; go env GOVERSION; } | hash_of)"
  if [ -x "$BIN/jaeger" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  go_env
  local mod="$TOOLS_DIR/jaeger/mod" out="$TOOLS_DIR/jaeger/jaeger.new"
  rm -rf "$mod"
  mkdir -p "$mod"
  log "building jaeger (first build: several minutes; log in $TOOLS_DIR/jaeger/build.log)"
  local t0=$SECONDS
  if ! (cd "$mod" && GOWORK=off go mod init bulwark-tools/jaeger \
      && GOWORK=off go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION" \
      && GOWORK=off go build -trimpath -ldflags "-s -w" -o "$out" github.com/jaegertracing/jaeger/cmd/jaeger) \
      > "$TOOLS_DIR/jaeger/build.log" 2>&1; then
    tail -n 40 "$TOOLS_DIR/jaeger/build.log" >&2
    die "building Jaeger $JAEGER_VERSION failed (full log: $TOOLS_DIR/jaeger/build.log)"
  fi
  log "jaeger built in $((SECONDS - t0))s"
  "$out" --help >/dev/null 2>&1 || die "the built jaeger does not run"
  mv -f "$out" "$BIN/jaeger"
  echo "$want" > "$stamp"
}

# ---------------------------------------------------------------------------- versions
print_versions() {
  step "versions"
  local node="$NODE_DIR/node_modules/.bin/node"
  {
    echo "node             $("$node" -v)"
    echo "npm              $(PATH="$NODE_DIR/node_modules/.bin:$PATH" npm -v)"
    echo "go               $(go env GOVERSION 2>/dev/null || echo missing)"
    echo "debian $DEB_SUITE  $(sed -n '2,$p' "$TOOLS_DIR/debs.stamp" | paste -sd',' | sed 's/,/, /g')"
    echo "promtool         $("$BIN/promtool" --version 2>&1 | head -n1)"
    echo "docker-compose   $("$BIN/docker-compose" version 2>&1 | head -n1)"
    echo "amtool           $("$BIN/amtool" --version 2>&1 | head -n1)"
    if [ -x "$BIN/redis-server" ]; then echo "redis-server     $("$BIN/redis-server" --version)"; fi
    if [ -x "$BIN/otelcol-bulwark" ]; then echo "otelcol-bulwark  $("$BIN/otelcol-bulwark" --version)"; fi
    if [ -x "$BIN/prometheus" ]; then echo "prometheus       $("$BIN/prometheus" --version 2>&1 | head -n1)"; fi
    if [ -x "$BIN/promtool-v3" ]; then echo "promtool-v3      $("$BIN/promtool-v3" --version 2>&1 | head -n1)"; fi
    if [ -x "$BIN/jaeger" ]; then echo "jaeger           $JAEGER_VERSION ($(cat "$TOOLS_DIR/jaeger/stamp" | cut -c1-12))"; fi
    if [ -x "$TOOLS_DIR/venv-gateway/bin/python" ]; then echo "venv-gateway     $(cut -d' ' -f1 "$TOOLS_DIR/venv-gateway/.bulwark-stamp") $(grep -v '^#' "$REPO_ROOT/scripts/python/gateway-requirements.txt" | paste -sd' ')"; fi
  } | tee "$TOOLS_DIR/versions.txt" >&2
}

install_node
# Jaeger first, in the background (its own log); the other steps run meanwhile.
JAEGER_LOG="$TOOLS_DIR/jaeger/install.log"
mkdir -p "$TOOLS_DIR/jaeger"
( install_jaeger ) > "$JAEGER_LOG" 2>&1 &
JAEGER_PID=$!
install_debs
install_redis
install_collector
install_prometheus
step "Python venv for the gateway's Python client tests"
bash "$REPO_ROOT/scripts/python-venv.sh" gateway >&2
CURRENT_STEP="Jaeger $JAEGER_VERSION (background build, log $JAEGER_LOG)"
if ! wait "$JAEGER_PID"; then
  cat "$JAEGER_LOG" >&2
  die "the Jaeger build failed (log: $JAEGER_LOG)"
fi
cat "$JAEGER_LOG" >&2
print_versions
CURRENT_STEP=done
log "tools ready in $BIN"
