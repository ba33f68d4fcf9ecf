#!/usr/bin/env bash
# Builds the draw-a-digit page as a static folder that runs the network in the browser:
#   index.html     the page (crates/serve/src/page.html, marked to run in the browser)
#   web.js         wasm-bindgen's JavaScript glue
#   web_bg.wasm    the network, the framing and the model's weights, compiled to WebAssembly
#
# Usage: crates/web/build-site.sh [MODEL_DIR] [--out DIR]
#   MODEL_DIR  a model directory (config.json + model.bpk) [default: artifacts/mnist-cnn]
#   --out DIR  where to write the folder [default: site/]
# Then: python3 -m http.server -d site 8000   and open http://127.0.0.1:8000
#
# Needs the wasm32 target (`rustup target add wasm32-unknown-unknown`) and wasm-bindgen's CLI at
# the version Cargo.lock pins (`cargo install wasm-bindgen-cli --version <it>`); both are checked
# first. The visitor needs neither: only the folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/site"
model=""
while (($#)); do
  case "$1" in
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [[ -z $model ]] || { echo "error: one model directory only (got $model and $1)" >&2; exit 2; }
       model="$1"; shift ;;
  esac
done
given="${model:-$root/artifacts/mnist-cnn}"
model="$(cd "$given" 2>/dev/null && pwd)" \
  || { echo "error: model directory $given does not exist" >&2; exit 1; }
for file in config.json model.bpk; do
  [[ -f $model/$file ]] || { echo "error: $model has no $file (a model directory holds config.json + model.bpk)" >&2; exit 1; }
done

# The CLI must be the version of the wasm-bindgen crate in Cargo.lock: the two share a schema.
locked=$(grep -A1 '^name = "wasm-bindgen"$' "$root/Cargo.lock" | sed -n 's/^version = "\(.*\)"$/\1/p')
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}') || true
if [[ $have != "$locked" ]]; then
  echo "error: wasm-bindgen CLI ${have:-not found}, Cargo.lock has $locked: cargo install wasm-bindgen-cli --version $locked" >&2
  exit 1
fi
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
  || { echo "error: the wasm32 target is missing: rustup target add wasm32-unknown-unknown" >&2; exit 1; }

target_dir="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"
MNIST_CNN_WEB_MODEL="$model" cargo build --locked --release -p web --target wasm32-unknown-unknown
rm -rf "$out"
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-name web --out-dir "$out" \
  "$target_dir/wasm32-unknown-unknown/release/web.wasm"
# One page source: serve embeds it as it is (computing on the server); here it is told to run
# the network itself.
sed 's|<meta name="mnist-cnn-runtime" content="server">|<meta name="mnist-cnn-runtime" content="browser">|' \
  "$root/crates/serve/src/page.html" > "$out/index.html"
grep -q 'content="browser"' "$out/index.html" || { echo "error: page.html lost its runtime marker" >&2; exit 1; }

wasm="$out/web_bg.wasm"
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "built $out (model: $model)"
echo "web_bg.wasm: $raw bytes raw, $gz bytes gzip -9"
