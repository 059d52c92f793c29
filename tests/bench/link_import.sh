#!/usr/bin/env bash
# Benchmark account linking at the scale of a province: N synthetic people
# (default 50,000) written straight into SQLite, and one app's export of N
# accounts (70 % with the official e-mail, 10 % with it written differently,
# 10 % with only the phone in another form, 8 % with only name and unit, 2 %
# of people no longer in the directory, whose accounts the app still lists
# as active) as a generic CSV source. Times `idp link import` and
# `idp link suggest --accept-exact` (release build), then fills a second
# app's review queue (`idp link suggest` without accepting) and times the
# queue's pages (`idp/examples/link_queue.rs`) and the console's pages over
# HTTP as a signed-in administrator (`tests/bench/console_queue.rs`). Prints
# Markdown tables.
#   tests/bench/link_import.sh
#   N=100000 tests/bench/link_import.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-50000}
cargo build -q --release -p idp --bin idp --example link_queue
cargo bench -q -p tests --bench console_queue --no-run 2>/dev/null
idp=$PWD/target/release/idp
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid"; rm -rf "$work"' EXIT
export IDP_DATA_DIR=$work IDP_DATABASE_URL=sqlite://$work/idp.db IDP_LOG__LEVEL=warn \
  IDP_EMAIL_DOMAIN=binhphuoc.gov.vn
"$idp" migrate >/dev/null

python3 - "$N" "$work" <<'PY'
import random, sys
n, work = int(sys.argv[1]), sys.argv[2]
rng = random.Random(20261201)
family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
middle = ["Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Đức", "Thu", "Quốc", "Hoàng"]
given = ["An", "Bình", "Cường", "Dũng", "Đạt", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương",
         "Lan", "Linh", "Lộc", "Nam", "Nga", "Phong", "Quân", "Sơn", "Tâm", "Thảo", "Tuấn", "Yến"]
units = [f"Phòng {i} Sở Nội vụ" for i in range(1, 61)]
people = []
with open(f"{work}/people.sql", "w") as sql:
    sql.write("BEGIN;\n")
    for i in range(n):
        name = f"{rng.choice(family)} {rng.choice(middle)} {rng.choice(given)}"
        phone = f"09{(i * 7919) % 100000000:08d}"
        unit = units[i % len(units)]
        people.append((f"cb{i:05d}@binhphuoc.gov.vn", name, phone, unit))
        sql.write(f"INSERT INTO users (id, email, name, phone, unit, created_at, updated_at) VALUES "
                  f"('p{i}', 'cb{i:05d}@binhphuoc.gov.vn', '{name}', '{phone}', '{unit}', 1, 1);\n")
    sql.write("COMMIT;\n")
with open(f"{work}/accounts.csv", "w") as out:
    out.write("username,display_name,email,phone,unit\r\n")
    for i, (email, name, phone, unit) in enumerate(people):
        k = i % 100
        if k < 70:
            row = (email, "", unit)
        elif k < 80:
            row = (" " + email.upper() + " ", "", unit)
        elif k < 90:
            row = ("", "+84 " + phone[1:4] + " " + phone[4:7] + " " + phone[7:], unit)
        elif k < 98:
            row = ("", "", unit)
        else:
            name, row = f"Người Đã Nghỉ {i}", ("", "", unit)
        out.write(f"u{i:05d},{name},{row[0]},{row[1]},{row[2]}\r\n")
PY
sqlite3 "$work/idp.db" < "$work/people.sql"
for app in hrm hrm2; do "$idp" app add $app --name "$app" --url "https://$app.binhphuoc.gov.vn/" >/dev/null; done

# Wall time, and CPU time (user + system): on a shared machine the wall time
# also counts the waits for a core.
t() { /usr/bin/time -f '%e s (CPU %U + %S s)' -o "$work/time" "$@" > "$work/out" 2>/dev/null; cat "$work/time"; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo
echo "| step ($N people, $N accounts) | wall (CPU) | result |"
echo "|---|---|---|"
echo "| \`idp link import hrm accounts.csv --format csv\` | $(t "$idp" link import hrm "$work/accounts.csv" --format csv) | $(head -1 "$work/out") |"
echo "| \`idp link suggest hrm --accept-exact\` | $(t "$idp" link suggest hrm --accept-exact) | $(tr '\n' ' ' < "$work/out") |"
echo "| \`idp link import hrm accounts.csv\` again (nothing changed) | $(t "$idp" link import hrm "$work/accounts.csv" --format csv) | $(head -1 "$work/out") |"
"$idp" link import hrm2 "$work/accounts.csv" --format csv >/dev/null 2>&1
echo "| \`idp link suggest hrm2\` (fills the queue) | $(t "$idp" link suggest hrm2) | $(head -1 "$work/out") |"
echo
"$PWD/target/release/examples/link_queue" "$IDP_DATABASE_URL" hrm2 "Phòng 7 Sở Nội vụ"

# The same queue as an administrator's browser gets it from the console.
port=${IDP_PORT:-18090}
password=bench-password-2024
"$idp" user add quantri --name "Quản trị" --admin --password-stdin <<<"$password" >/dev/null
code=$("$idp" user enrolment-code quantri | awk '{print $NF}')
IDP_LISTEN=127.0.0.1:$port IDP_ISSUER=http://127.0.0.1:$port IDP_HTTP__RATE_LIMIT_REQUESTS=100000000 \
  "$idp" serve 2>"$work/idp.log" & pid=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo
BASE=http://127.0.0.1:$port ACCOUNT=quantri PASSWORD=$password ENROL_CODE=$code APP=hrm2 \
  UNIT="Phòng 7 Sở Nội vụ" cargo bench -q -p tests --bench console_queue 2>/dev/null
