#!/usr/bin/env bash
# Builds the vegalake wheel (python/): the extension module over the workspace's
# crates, with vega, vega-embed and the browser client (pinned in client/) bundled, as one
# abi3 wheel for Python >= 3.10.
#
#   scripts/python.sh [--dev] [--install VENV]
#
# --dev builds with the dev profile, sharing the test build's compiled crates
# (the tests use it); without it, a release build for users. --install puts the
# wheel, with Altair and vl-convert, into VENV (created if missing).
# Prints the wheel's path last.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
# Callers capture stdout for the wheel's path: every tool's output goes to stderr
# (npm ci prints its summary on stdout; CI captured it as the path once).
exec 3>&1 1>&2
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/vegalake-target}"
profile=release
venv=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dev) profile=dev ;;
    --install) venv="$2"; shift ;;
    *) echo "usage: scripts/python.sh [--dev] [--install VENV]" >&2; exit 2 ;;
  esac
  shift
done
# vega and vega-embed (the npm registry's builds, for self-contained HTML) and the
# widget's client bundle (client/, built with esbuild), copied into the package.
js=client
if ! (cd "$js" && npm ls --depth=0 >/dev/null 2>&1); then
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
fi
(cd "$js" && npm run --silent build)
mkdir -p python/vegalake/static
cp "$js/node_modules/vega/build/vega.min.js" "$js/node_modules/vega-embed/build/vega-embed.min.js" \
  "$js/dist/vegalake-widget.js" python/vegalake/static/
# The wheel has the Spark engine (engine="spark://..."), whose build needs protoc.
protoc_tool
maturin_tool
out="$CARGO_TARGET_DIR/wheels-$profile"
rm -rf "$out"
"$MATURIN" build --manifest-path python/Cargo.toml --profile "$profile" --out "$out" --compatibility linux --locked
wheel="$(ls "$out"/vegalake-*.whl)"
if [ -n "$venv" ]; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall "$wheel[altair]"
fi
echo "$wheel" >&3
