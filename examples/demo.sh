#!/usr/bin/env bash
# Single sign-on and single logout in a minute: starts dangnhap on
# http://127.0.0.1:8080 with two demo apps (http://127.0.0.1:8081 and :8082)
# and three demo people, all in a temporary folder. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p idp -p demo-apps
bin=target/release
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

export IDP_LISTEN=127.0.0.1:8080 IDP_ISSUER=http://127.0.0.1:8080 IDP_DATA_DIR=$dir \
  IDP_DATABASE_URL=sqlite://$dir/idp.db IDP_EMAIL_DOMAIN=binhphuoc.gov.vn IDP_LOG__FORMAT=text IDP_LOG__LEVEL=warn
password='Demo@2024!'
while IFS='|' read -r account name unit title; do
  "$bin/idp" user add "$account" --name "$name" --unit "$unit" --title "$title" --password-stdin <<<"$password" >/dev/null
done <<'PEOPLE'
tamtt|Trương Thanh Tâm|Sở Nội vụ|Chuyên viên
hoanglm|Hoàng Lê Minh|Văn phòng UBND tỉnh|Văn thư
nguyenvtb|Nguyễn Văn Thành Bình|Sở Tài chính|Phó Giám đốc
PEOPLE
"$bin/idp" user add admin --name "Quản trị hệ thống" --admin --password-stdin <<<"$password" >/dev/null
# An administrator binds a first second factor only with a code given out of band.
enrolment=$("$bin/idp" user enrolment-code admin | sed -n 's/.*works once): //p')

start_app() { # id port name back|front (how the app hears of a sign-out)
  local base=http://127.0.0.1:$2 secret
  secret=$("$bin/idp" client add "$1" --name "$3" --redirect-uri "$base/oidc/callback" \
    --post-logout-redirect-uri "$base/" --"$4"channel-logout-uri "$base/oidc/$4channel-logout" \
    --initiate-login-uri "$base/oidc/initiate" | sed -n 's/^client_secret: //p')
  "$bin/idp" app add "$1" --name "$3" --url "$base/" --client "$1" >/dev/null
  DEMO_NAME="$3" DEMO_LISTEN=127.0.0.1:$2 DEMO_ISSUER=$IDP_ISSUER DEMO_CLIENT_ID=$1 DEMO_CLIENT_SECRET=$secret \
    "$bin/demo-rp" 2>/dev/null & pids+=($!)
}

"$bin/idp" serve & pids+=($!)
for _ in $(seq 100); do curl -sf -o /dev/null "$IDP_ISSUER/healthz" && break; sleep 0.1; done
start_app vanban 8081 "Quản lý văn bản" back
start_app phonghop 8082 "Phòng họp không giấy" front
cat <<MESSAGE

  Cổng đăng nhập:        http://127.0.0.1:8080/
  Quản lý văn bản:       http://127.0.0.1:8081/
  Phòng họp không giấy:  http://127.0.0.1:8082/

  Đăng nhập (sign in) as tamtt, hoanglm or nguyenvtb with the password $password.
  Open both apps from their tiles: no second sign-in. Sign out at the portal
  or in either app: both apps are signed out. The administrator "admin" (same
  password) must use a second factor: at the first sign-in, type the enrolment
  code $enrolment, then set up an authenticator app from the QR code.
  Ctrl-C stops the demo.

MESSAGE
wait
