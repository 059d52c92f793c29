#!/usr/bin/env bash
# Signing benchmark (issue 10): one signature's time and throughput on the
# multi-page fixture and on a ~10 MB PDF, idp beside pyHanko, both signing
# the same file with the same RSA-2048 key on the same SoftHSM2 token.
#
# Two figures each, so like is compared with like:
#   - command line: `idp sign pdf` against `python pyhanko_pkcs11.py` (one
#     signature per process: start-up, the token login and, for idp, opening
#     the database are in it), timed by hyperfine when installed;
#   - in process: idp/examples/sign_bench.rs against pyhanko_pkcs11.py with
#     N > 0 (logged in once, then N signatures in a loop).
#
# usage: tests/bench/sign_bench.sh [N]   (N in-process signatures, default 50)
# Uses target/release/idp when it exists (cargo build --release -p idp),
# else target/debug/idp; says which. IDP_BIN and SIGN_BENCH_BIN name other
# builds of both (a before/after on one machine). Installs pyHanko with its PKCS#11 extra
# into target/bench-venv (from PyPI wheels) on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-50}
RUNS=${RUNS:-10}

if [ -n "${IDP_BIN:-}" ] && [ -n "${SIGN_BENCH_BIN:-}" ]; then
  # Binaries built elsewhere (another revision, for a before/after).
  profile=given
  IDP=$IDP_BIN
  EXAMPLE=$SIGN_BENCH_BIN
else
  profile=debug
  [ -x target/release/idp ] && profile=release
  cargo build -q -p idp $([ $profile = release ] && echo --release) --bin idp --example sign_bench
  IDP=$PWD/target/$profile/idp
  EXAMPLE=$PWD/target/$profile/examples/sign_bench
fi

venv=target/bench-venv
if ! "$venv/bin/python" -c "import pyhanko.sign.pkcs11" 2>/dev/null; then
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'pyhanko[pkcs11]==0.38.*'
fi
PY=$PWD/$venv/bin/python
PYSIGN=$PWD/tests/bench/pyhanko_pkcs11.py

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
MODULE=/usr/lib/softhsm/libsofthsm2.so
TOKEN=bench
LABEL=bench-rsa
mkdir "$work/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" >"$work/softhsm2.conf"
export SOFTHSM2_CONF=$work/softhsm2.conf
printf '0246\n' >"$work/pin" && chmod 600 "$work/pin"
softhsm2-util --init-token --free --label $TOKEN --so-pin 12345678 --pin 0246 >/dev/null
# An RSA-2048 key with a certificate (non-repudiation, as pyHanko wants), onto the token.
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/O=dangnhap bench/CN=Benchmark signer" \
  -addext keyUsage=critical,digitalSignature,nonRepudiation -addext basicConstraints=critical,CA:FALSE \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
openssl pkey -in "$work/key.pem" -outform der -out "$work/key.der"
openssl x509 -in "$work/cert.pem" -outform der -out "$work/cert.der"
for kind in privkey cert; do
  file=$work/key.der; [ $kind = cert ] && file=$work/cert.der
  pkcs11-tool --module $MODULE --token-label $TOKEN --login --pin 0246 \
    --write-object "$file" --type $kind --id 01 --label $LABEL >/dev/null
done

# The ~10 MB document: the multi-page fixture followed by ten pages, each a
# 1024×1024 greyscale image of deterministic noise (1 MiB that does not compress).
small=tests/fixtures/documents/ke-hoach-nhieu-trang.pdf
/usr/bin/python3 - "$work/images.pdf" <<'PY'
import random, sys
rng = random.Random(10)
pages = 10
objs = {1: b"<< /Type /Catalog /Pages 2 0 R >>"}
kids = []
for i in range(pages):
    page, content, image = 3 + 3 * i, 4 + 3 * i, 5 + 3 * i
    kids.append(f"{page} 0 R")
    objs[page] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                  f"/Resources << /XObject << /Im0 {image} 0 R >> >> /Contents {content} 0 R >>").encode()
    draw = b"q 500 0 0 500 47 171 cm /Im0 Do Q"
    objs[content] = b"<< /Length %d >>\nstream\n" % len(draw) + draw + b"\nendstream"
    data = rng.randbytes(1024 * 1024)
    objs[image] = (b"<< /Type /XObject /Subtype /Image /Width 1024 /Height 1024 "
                   b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d >>\nstream\n" % len(data)
                   + data + b"\nendstream")
objs[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {pages} >>".encode()
out = bytearray(b"%PDF-1.7\n")
offsets = {}
for n in sorted(objs):
    offsets[n] = len(out)
    out += b"%d 0 obj\n" % n + objs[n] + b"\nendobj\n"
xref = len(out)
size = max(objs) + 1
out += b"xref\n0 %d\n0000000000 65535 f \n" % size
for n in range(1, size):
    out += b"%010d 00000 n \n" % offsets[n]
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
open(sys.argv[1], "wb").write(out)
PY
qpdf --empty --pages "$small" "$work/images.pdf" -- "$work/big.pdf"
big=$work/big.pdf

# idp's own database for the command line (audit log, settings).
export IDP_DATA_DIR=$work/idp IDP_DATABASE_URL=sqlite://$work/idp/idp.db IDP_LOG__FORMAT=text
export IDP_SIGNING__BACKEND=pkcs11 IDP_SIGNING__MODULE=$MODULE IDP_SIGNING__TOKEN_LABEL=$TOKEN
export IDP_SIGNING__PIN_FILE=$work/pin
mkdir -m 700 "$work/idp"
"$IDP" migrate >/dev/null 2>&1

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "idp binary: $profile ($IDP)"
for doc in "$small" "$big"; do
  bytes=$(stat -c %s "$doc")
  echo
  echo "== $(basename "$doc"): $bytes bytes"
  # Both outputs must be valid before their times mean anything.
  "$IDP" sign pdf "$doc" "$work/idp-out.pdf" --key $LABEL >/dev/null
  "$PY" "$PYSIGN" $MODULE $TOKEN "$work/pin" $LABEL "$doc" 0 "$work/py-out.pdf"
  for f in idp-out py-out; do
    pdfsig "$work/$f.pdf" 2>&1 | grep -q "Signature is Valid." || { echo "$f: not valid" >&2; exit 1; }
  done
  echo "-- command line (one signature per process)"
  if command -v hyperfine >/dev/null; then
    hyperfine --style basic --warmup 1 --runs "$RUNS" -N \
      -n idp "$IDP sign pdf $doc $work/idp-out.pdf --key $LABEL" \
      -n pyhanko "$PY $PYSIGN $MODULE $TOKEN $work/pin $LABEL $doc 0 $work/py-out.pdf" 2>&1 |
      grep -E "Time|±|faster|Benchmark" || true
  else
    for who in idp pyhanko; do
      start=$(date +%s.%N)
      for _ in $(seq "$RUNS"); do
        if [ $who = idp ]; then "$IDP" sign pdf "$doc" "$work/idp-out.pdf" --key $LABEL >/dev/null
        else "$PY" "$PYSIGN" $MODULE $TOKEN "$work/pin" $LABEL "$doc" 0 "$work/py-out.pdf"; fi
      done
      echo "$who: $(echo "($(date +%s.%N) - $start) * 1000 / $RUNS" | bc -l | cut -c1-7) ms per run"
    done
  fi
  echo "-- in process (logged in once, $N signatures)"
  echo "idp:     $("$EXAMPLE" $MODULE $TOKEN "$work/pin" $LABEL "$doc" "$N")"
  echo "pyhanko: $("$PY" "$PYSIGN" $MODULE $TOKEN "$work/pin" $LABEL "$doc" "$N" "$work/py-out.pdf")"
done
