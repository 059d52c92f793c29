#!/usr/bin/env bash
# The test command: installs what is missing (Debian packages when run as
# root, npm packages into tests/node), then runs every test of the workspace
# against real peers (PostgreSQL, Redis, OpenLDAP, an SMTP server, Node's openid-client,
# headless Chromium, Apache's mod_auth_cas and mod_auth_mellon, pysaml2 and xmlsec1 (SAML), and the PDF validators pdfsig, qpdf and pyHanko). Screenshots of the pages land in target/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v slapd >/dev/null || need+=(slapd)
command -v ldapadd >/dev/null || need+=(ldap-utils)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v psql >/dev/null || need+=(postgresql-client)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# An SMTP server the tests read the mail from.
/usr/bin/python3 -c "import aiosmtpd" 2>/dev/null || need+=(python3-aiosmtpd)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
# Independent PDF signature validators, and the venv pyHanko goes into.
command -v pdfsig >/dev/null || need+=(poppler-utils)
command -v qpdf >/dev/null || need+=(qpdf)
command -v openssl >/dev/null || need+=(openssl)
# A PKCS#11 token for the signing keys, the tool that writes keys onto it,
# and NSS's certutil (pdfsig's trust store for the test CA).
[ -e /usr/lib/softhsm/libsofthsm2.so ] || need+=(softhsm2)
command -v pkcs11-tool >/dev/null || need+=(opensc)
command -v certutil >/dev/null || need+=(libnss3-tools)
/usr/bin/python3 -c "import ensurepip, venv" 2>/dev/null || need+=(python3-venv)
# Apache with mod_auth_cas: an older app's CAS client (and its TLS front).
[ -x /usr/sbin/apache2 ] || need+=(apache2)
[ -e /usr/lib/apache2/modules/mod_auth_cas.so ] || need+=(libapache2-mod-auth-cas)
# and with mod_auth_mellon: an older app's SAML SP.
[ -e /usr/lib/apache2/modules/mod_auth_mellon.so ] || need+=(libapache2-mod-auth-mellon)
# xmlsec1: checks the SAML signatures (by itself and inside pysaml2).
command -v xmlsec1 >/dev/null || need+=(xmlsec1)
# Vietnamese glyphs in the screenshots.
[ -d /usr/share/fonts/truetype/noto ] || need+=(fonts-noto-core)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing: ${need[*]}"
    # slapd must not configure (or start) a directory of its own: the tests run theirs.
    echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
  else
    echo "missing: ${need[*]}; install them with: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

if [ -f tests/node/package-lock.json ]; then
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
fi

# pyHanko validates the signed PDFs (tests/pyhanko/validate.py); the tests
# find it in target/pyhanko-venv (or PYHANKO_PYTHON).
pyhanko_venv=target/pyhanko-venv
if ! "$pyhanko_venv/bin/python" -c "import pyhanko" 2>/dev/null; then
  /usr/bin/python3 -m venv "$pyhanko_venv"
  "$pyhanko_venv/bin/pip" install --quiet --disable-pip-version-check 'pyhanko==0.38.*'
fi

# python-cas is the CAS client app of the CAS tests (tests/cas/client.py);
# the tests find it in target/cas-venv (or CAS_PYTHON).
cas_venv=target/cas-venv
if ! "$cas_venv/bin/python" -c "import cas" 2>/dev/null; then
  /usr/bin/python3 -m venv "$cas_venv"
  "$cas_venv/bin/pip" install --quiet --disable-pip-version-check 'python-cas==1.6.*'
fi

# pysaml2 is the SAML SP of the SAML tests (tests/saml/sp.py); the tests
# find it in target/saml-venv (or SAML_PYTHON).
saml_venv=target/saml-venv
if ! "$saml_venv/bin/python" -c "import saml2" 2>/dev/null; then
  /usr/bin/python3 -m venv "$saml_venv"
  "$saml_venv/bin/pip" install --quiet --disable-pip-version-check 'pysaml2==7.5.*'
fi

# The end-to-end tests start this binary.
cargo build -p idp -p demo-apps
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
