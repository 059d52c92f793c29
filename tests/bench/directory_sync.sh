#!/usr/bin/env bash
# Benchmark `idp directory sync` against a real slapd holding N synthetic
# people (default 50,000, last changed on 2025-01-01): a first import, a
# re-run that changes nothing, a run after 1% of the people left, two after
# 1% changed each time (from the second on the mark is recent, so only the
# changed entries are read) and a --full run. Prints one Markdown line per run.
#   tests/bench/directory_sync.sh
#   N=100000 tests/bench/directory_sync.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-50000}
PORT=${PORT:-13389}
cargo build -q --release -p idp
idp=$PWD/target/release/idp
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

mkdir "$work/db"
cat > "$work/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile $work/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "dc=binhphuoc,dc=gov,dc=vn"
rootdn "cn=admin,dc=binhphuoc,dc=gov,dc=vn"
rootpw bench-secret
directory $work/db
maxsize 4294967296
CONF
python3 - "$N" > "$work/people.ldif" <<'PY'
import sys
n = int(sys.argv[1])
print("dn: dc=binhphuoc,dc=gov,dc=vn\nobjectClass: dcObject\nobjectClass: organization\ndc: binhphuoc\no: Binh Phuoc\n")
print("dn: ou=people,dc=binhphuoc,dc=gov,dc=vn\nobjectClass: organizationalUnit\nou: people\n")
for i in range(n):
    print(f"dn: uid=u{i},ou=people,dc=binhphuoc,dc=gov,dc=vn\nobjectClass: inetOrgPerson\nuid: u{i}\n"
          f"mail: u{i}@binhphuoc.gov.vn\ncn: Nguyen Van {i}\nsn: Nguyen\ntitle: Chuyen vien\n"
          f"employeeNumber: {2000000000 + i}\nou: Unit {i % 120}\ntelephoneNumber: 09{i:08d}\nuserPassword: x\n"
          f"modifyTimestamp: 20250101000000Z\n")
PY
slapadd -q -f "$work/slapd.conf" -l "$work/people.ldif"
slapd -f "$work/slapd.conf" -h "ldap://127.0.0.1:$PORT/" -d 0 >/dev/null 2>&1 & pid=$!
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

export IDP_DATA_DIR=$work IDP_DATABASE_URL=sqlite://$work/idp.db IDP_LOG__LEVEL=warn \
  IDP_DIRECTORY__TYPE=ldap IDP_DIRECTORY__URL=ldap://127.0.0.1:$PORT \
  IDP_DIRECTORY__BIND_DN=cn=admin,dc=binhphuoc,dc=gov,dc=vn IDP_DIRECTORY__BIND_PASSWORD=bench-secret \
  IDP_DIRECTORY__BASE_DN=ou=people,dc=binhphuoc,dc=gov,dc=vn IDP_DIRECTORY__TIMEOUT_SECS=60
echo "| run ($N people) | result |"
echo "|---|---|"
echo "| first import | $("$idp" directory sync 2>/dev/null) |"
echo "| again, nothing changed | $("$idp" directory sync 2>/dev/null) |"
for i in $(seq 0 100 $((N - 1))); do echo "uid=u$i,ou=people,dc=binhphuoc,dc=gov,dc=vn"; done |
  ldapdelete -x -H "ldap://127.0.0.1:$PORT" -D cn=admin,dc=binhphuoc,dc=gov,dc=vn -w bench-secret
echo "| after 1% left (all entries are older than the first mark: all read) | $("$idp" directory sync 2>/dev/null) |"
change() { # gives 1% of the people (u$1, u$1+100, …) a new title
  for i in $(seq "$1" 100 $((N - 1))); do
    printf 'dn: uid=u%s,ou=people,dc=binhphuoc,dc=gov,dc=vn\nchangetype: modify\nreplace: title\ntitle: Pho phong\n\n' "$i"
  done | ldapmodify -x -H "ldap://127.0.0.1:$PORT" -D cn=admin,dc=binhphuoc,dc=gov,dc=vn -w bench-secret >/dev/null
}
change 1
echo "| after 1% changed (the mark is still 2025: all read once more, the mark moves to today) | $("$idp" directory sync 2>/dev/null) |"
change 2
echo "| after another 1% changed (only entries changed since the mark, less 5 minutes, are read) | $("$idp" directory sync 2>/dev/null) |"
echo "| --full | $("$idp" directory sync --full 2>/dev/null) |"
