#!/usr/bin/env bash
# Benchmark dangnhap against node oidc-provider (OpenID Certified) on this
# machine, load generator included, and print a Markdown table for the README.
#   tests/bench/run.sh            # 10 s per run, 64 connections, 16 workers
#   SECS=30 CONN=128 WORKERS=32 tests/bench/run.sh
#   PERF=1 tests/bench/run.sh     # and where the server's CPU goes in each flow
# Only loopback is used. Discovery, JWKS and client_credentials run on both
# servers with wrk; refresh chains, OIDC authorize→token rounds, CAS
# login→validate rounds and SAML AuthnRequest→signed Response rounds need a
# client that follows each response, so they run against dangnhap with
# `cargo bench -p tests --bench load`, one after the other with the same
# worker count, into one table.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${SECS:-10}
CONN=${CONN:-64}
IDP_PORT=${IDP_PORT:-18080}
NODE_PORT=${NODE_PORT:-13000}
WORKERS=${WORKERS:-16}

command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -q --no-install-recommends wrk; }
(cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
cargo build -q --release -p idp
# The load generator runs as its own binary: a cargo call between the
# flows could wait for another build's lock on the target directory.
load_bin=$(cargo bench -p tests --bench load --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\))$/\1/p')
[ -x "$load_bin" ] || { echo "the load generator did not build: cargo bench -p tests --bench load --no-run" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

export IDP_LISTEN=127.0.0.1:$IDP_PORT IDP_ISSUER=http://127.0.0.1:$IDP_PORT IDP_DATA_DIR=$work \
  IDP_DATABASE_URL=sqlite://$work/idp.db IDP_EMAIL_DOMAIN=binhphuoc.gov.vn IDP_LOG__LEVEL=warn \
  IDP_HTTP__RATE_LIMIT_REQUESTS=100000000 IDP_HTTP__RATE_LIMIT_FAILURES=100000000
# One load generator on loopback is not a flood. The failure limit counts every
# call in flight before its outcome is known, so 64 connections pass its default.
idp=${CARGO_TARGET_DIR:-target}/release/idp
password=bench-password-2024
redirect=http://127.0.0.1:9/cb
$idp user add tamtt --name "Trương Thanh Tâm" --password-stdin <<<"$password" >/dev/null
svc=$($idp client add svc --grant client_credentials --scope docs:read | sed -n 's/^client_secret: //p')
app=$($idp client add app --redirect-uri $redirect | sed -n 's/^client_secret: //p')
service=http://127.0.0.1:9/onewin/
$idp cas service add onewin --pattern $service >/dev/null
# A SAML SP as its metadata describes it: unsigned requests, a loopback
# HTTP-POST ACS (http is allowed there without --insecure-http).
sp_entity_id=http://127.0.0.1:9/motcua/sp
acs=http://127.0.0.1:9/motcua/acs
cat >"$work/sp-metadata.xml" <<EOF
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="$sp_entity_id">
  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="$acs" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
EOF
$idp saml sp add --metadata "$work/sp-metadata.xml" --name "Một cửa (SAML)" >/dev/null
$idp serve 2>"$work/idp.log" & pids+=($!); idp_pid=$!

node_secret=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
PORT=$NODE_PORT CLIENT_SECRET=$node_secret node tests/node/provider.mjs >/dev/null 2>&1 & pids+=($!); node_pid=$!

for url in http://127.0.0.1:$IDP_PORT/healthz http://127.0.0.1:$NODE_PORT/.well-known/openid-configuration; do
  for _ in $(seq 100); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done
done
sleep 2
# The load average every 5 s while the benchmark runs (other builds on the
# machine show here, on top of the two processes under load).
while sleep 5; do cut -d' ' -f1 /proc/loadavg; done >"$work/loadavg" & pids+=($!)
rss() { awk "/^$2:/ {printf \"%.1f\", \$2/1024}" "/proc/$1/status"; }
idp_idle=$(rss $idp_pid VmRSS); node_idle=$(rss $node_pid VmRSS)

# Requests per second from wrk; refuses to report a run with errors (called
# in an assignment, so that `set -e` sees its exit).
load() {
  local out
  out=$(wrk -t1 -c"$CONN" -d"${SECS}s" "$@")
  if grep -q "Non-2xx" <<<"$out"; then echo "wrk saw errors: $out" >&2; exit 1; fi
  awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out"
}
row() { printf '| %s | %s | %s | %s× |\n' "$1" "$2" "$3" "$(python3 -c "print(round($2/$3, 1))")"; }

echo "| endpoint | dangnhap (req/s) | node oidc-provider (req/s) | ratio |"
echo "|---|---|---|---|"
a=$(load http://127.0.0.1:$IDP_PORT/.well-known/openid-configuration)
b=$(load http://127.0.0.1:$NODE_PORT/.well-known/openid-configuration)
row discovery "$a" "$b"
a=$(load http://127.0.0.1:$IDP_PORT/jwks)
b=$(load http://127.0.0.1:$NODE_PORT/jwks)
row JWKS "$a" "$b"
a=$(BASIC=$(printf 'svc:%s' "$svc" | base64 -w0) load -s tests/bench/client_credentials.lua http://127.0.0.1:$IDP_PORT/token)
b=$(BASIC=$(printf 'bench:%s' "$node_secret" | base64 -w0) load -s tests/bench/client_credentials.lua http://127.0.0.1:$NODE_PORT/token)
row client_credentials "$a" "$b"
echo
export BASE=http://127.0.0.1:$IDP_PORT CLIENT_ID=app CLIENT_SECRET=$app REDIRECT=$redirect ACCOUNT=tamtt PASSWORD=$password
export SERVICE=$service SP_ENTITY_ID=$sp_entity_id ACS=$acs
echo "| flow (dangnhap only, $WORKERS workers) | per second | p50 | p99 |"
echo "|---|---|---|---|"
for mode in refresh authorize cas saml; do
  if [ "${PERF:-}" ]; then
    perf record -q -F 499 -p $idp_pid -o "$work/perf-$mode.data" 2>/dev/null & perf_pid=$!
  fi
  "$load_bin" "$mode" "$SECS" "$WORKERS"
  if [ "${PERF:-}" ]; then
    kill -INT $perf_pid; wait $perf_pid || true
    perf report -q -i "$work/perf-$mode.data" --no-children --sort dso,sym --percent-limit 2 2>/dev/null \
      | grep -v '^$' | head -12 | sed "s/^/perf $mode: /" >&2
  fi
done
echo
echo "RSS: dangnhap idle ${idp_idle} MB, peak $(rss $idp_pid VmHWM) MB; node oidc-provider idle ${node_idle} MB, peak $(rss $node_pid VmHWM) MB"
echo "Load average (1 min) during the run: $(sort -n "$work/loadavg" | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo " to " hi}')"
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
