"""Signs a PDF with pyHanko (PAdES, an incremental update), so the tests can
check that our signatures and pyHanko's live together in one document.

usage: sign.py IN.pdf OUT.pdf KEY.pem CERT.pem FIELD
"""

import sys

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter


def main() -> None:
    src, dst, key, cert, field = sys.argv[1:6]
    signer = signers.SimpleSigner.load(key, cert)
    meta = signers.PdfSignatureMetadata(
        field_name=field, subfilter=SigSeedSubFilter.PADES
    )
    with open(src, "rb") as inp:
        writer = IncrementalPdfFileWriter(inp, strict=False)
        with open(dst, "wb") as out:
            signers.sign_pdf(writer, meta, signer=signer, output=out)


if __name__ == "__main__":
    main()
