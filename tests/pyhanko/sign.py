"""Signs a PDF with pyHanko (PAdES, an incremental update), so the tests can
check that our signatures and pyHanko's live together in one document.

usage: sign.py IN.pdf OUT.pdf KEY.pem CERT.pem FIELD [certify-no-changes]
With `certify-no-changes` the signature certifies the document and allows no
change after it (DocMDP P=1).
"""

import sys

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter


def main() -> None:
    src, dst, key, cert, field = sys.argv[1:6]
    certify = sys.argv[6:7] == ["certify-no-changes"]
    signer = signers.SimpleSigner.load(key, cert)
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        subfilter=SigSeedSubFilter.PADES,
        certify=certify,
        docmdp_permissions=MDPPerm.NO_CHANGES,
    )
    with open(src, "rb") as inp:
        writer = IncrementalPdfFileWriter(inp, strict=False)
        with open(dst, "wb") as out:
            signers.sign_pdf(writer, meta, signer=signer, output=out)


if __name__ == "__main__":
    main()
