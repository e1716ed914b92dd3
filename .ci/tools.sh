# Sourced by .ci/run: builds the current-generation tools the tests use
# (Prometheus 3, Alertmanager 0.3x, Helm, actionlint) once per version into
# a cache outside the clone, and exports where they are:
#   DYVMS_PROMETHEUS3, DYVMS_PROMTOOL3, DYVMS_ALERTMANAGER3, DYVMS_HELM,
#   DYVMS_ACTIONLINT
# A second run finds the binaries and builds nothing. Each build uses the
# caller's GOMODCACHE and GOCACHE (set them to empty directories to measure a
# cold build). Test-only tools: nothing here reaches the exporter's binary.

DYVMS_TOOL_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/dyvms-exporter-ci"
PROMETHEUS3_VERSION=v0.316.0   # Prometheus 3.x as a Go module version
ALERTMANAGER3_VERSION=v0.34.1
HELM_VERSION=v3.22.0
ACTIONLINT_VERSION=v1.7.12     # lints .github/workflows in .ci/run

# tool_dir TOOL VERSION: the cache directory of one tool version.
tool_dir() { echo "$DYVMS_TOOL_CACHE/$1-$2"; }

# go_install_tool TOOL VERSION PKG@VERSION BIN...: go install into the cache
# directory unless every BIN is there already. Built into a temporary
# directory and moved, so an interrupted build leaves no half binary.
go_install_tool() {
  local tool=$1 version=$2 pkg=$3; shift 3
  local dir; dir=$(tool_dir "$tool" "$version")
  local b missing=()
  for b in "$@"; do [ -x "$dir/$b" ] || missing+=("$b"); done
  if [ ${#missing[@]} -eq 0 ]; then echo "   $tool $version: cached in $dir"; return; fi
  mkdir -p "$dir"
  local tmp; tmp=$(mktemp -d "$dir/.build.XXXXXX")
  local t0=$SECONDS
  for b in "${missing[@]}"; do
    GOBIN="$tmp" GOFLAGS=-buildvcs=false go install "${pkg%/*}/$b@$version"
  done
  mv "$tmp"/* "$dir"/ && rmdir "$tmp"
  echo "   $tool $version: ${missing[*]} built in $((SECONDS - t0)) s into $dir"
}

# build_alertmanager3: Alertmanager's module does not go install as is: its
# UI assets (ui/app/dist, a go:embed pattern) are not in the module. Build
# ./cmd/alertmanager from a writable copy with an empty index.html instead;
# the tests use the API only.
build_alertmanager3() {
  local dir; dir=$(tool_dir alertmanager "$ALERTMANAGER3_VERSION")
  if [ -x "$dir/alertmanager" ]; then echo "   alertmanager $ALERTMANAGER3_VERSION: cached in $dir"; return; fi
  mkdir -p "$dir"
  local t0=$SECONDS src tmp
  src=$(cd / && GOFLAGS=-mod=mod go mod download -json "github.com/prometheus/alertmanager@$ALERTMANAGER3_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [ -d "$src" ] || { echo "go mod download of alertmanager gave no directory"; return 1; }
  tmp=$(mktemp -d "$dir/.build.XXXXXX")
  cp -r "$src" "$tmp/src" && chmod -R u+w "$tmp/src"
  mkdir -p "$tmp/src/ui/app/dist" && : >"$tmp/src/ui/app/dist/index.html"
  (cd "$tmp/src" && GOFLAGS=-buildvcs=false go build -o "$tmp/alertmanager" ./cmd/alertmanager)
  mv "$tmp/alertmanager" "$dir/alertmanager" && rm -rf "$tmp"
  echo "   alertmanager $ALERTMANAGER3_VERSION: built in $((SECONDS - t0)) s into $dir"
}

build_ci_tools() {
  go_install_tool prometheus "$PROMETHEUS3_VERSION" github.com/prometheus/prometheus/cmd/prometheus prometheus promtool
  build_alertmanager3
  go_install_tool helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm helm
  go_install_tool actionlint "$ACTIONLINT_VERSION" github.com/rhysd/actionlint/cmd/actionlint actionlint
  export DYVMS_PROMETHEUS3="$(tool_dir prometheus "$PROMETHEUS3_VERSION")/prometheus"
  export DYVMS_PROMTOOL3="$(tool_dir prometheus "$PROMETHEUS3_VERSION")/promtool"
  export DYVMS_ALERTMANAGER3="$(tool_dir alertmanager "$ALERTMANAGER3_VERSION")/alertmanager"
  export DYVMS_HELM="$(tool_dir helm "$HELM_VERSION")/helm"
  export DYVMS_ACTIONLINT="$(tool_dir actionlint "$ACTIONLINT_VERSION")/actionlint"
  "$DYVMS_PROMETHEUS3" --version | head -1
  "$DYVMS_ALERTMANAGER3" --version 2>&1 | head -1
  "$DYVMS_HELM" version --short
  echo "actionlint $("$DYVMS_ACTIONLINT" -version | head -1)"
}
