"""Signs one PDF N times with pyHanko's PKCS#11 signer, in one process and
one token session (opened once, as idp's backend logs in once), and prints
the time per signature: the reference for tests/bench/sign_bench.sh.

usage: pyhanko_pkcs11.py MODULE TOKEN_LABEL PIN_FILE KEY_LABEL IN.pdf N OUT.pdf
N = 0 signs once into OUT.pdf (what the command-line timing runs).
"""

import json
import sys
import time
from io import BytesIO

from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import pkcs11 as sign_pkcs11
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter


def sign_once(data: bytes, signer, out) -> None:
    meta = signers.PdfSignatureMetadata(
        field_name="PyHanko", subfilter=SigSeedSubFilter.PADES, reason="benchmark"
    )
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    signers.sign_pdf(writer, meta, signer=signer, output=out)


def main() -> None:
    module, token, pin_file, key, src, n, dst = sys.argv[1:8]
    n = int(n)
    with open(pin_file) as f:
        pin = f.read().strip()
    with open(src, "rb") as f:
        data = f.read()
    with sign_pkcs11.open_pkcs11_session(
        module, token_criteria=TokenCriteria(label=token), user_pin=pin
    ) as session:
        signer = sign_pkcs11.PKCS11Signer(session, key_label=key, cert_label=key)
        with open(dst, "wb") as out:
            sign_once(data, signer, out)
        if n == 0:
            return
        start = time.perf_counter()
        for _ in range(n):
            sign_once(data, signer, BytesIO())
        each = (time.perf_counter() - start) * 1000 / n
    print(
        json.dumps(
            {
                "signatures": n,
                "ms_per_signature": round(each, 2),
                "per_second": round(1000 / each, 1),
                "bytes": len(data),
            }
        )
    )


if __name__ == "__main__":
    main()
