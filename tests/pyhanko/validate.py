"""Validates every signature in a PDF with pyHanko, an independent PAdES
implementation, and prints one JSON object per signature.

usage: validate.py FILE.pdf TRUST_ROOT.pem [TRUST_ROOT.pem …]
The trust roots are the certificates the signers are checked against (for
the embedded software key, its own self-signed certificate).
"""

import json
import sys

from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def timestamp(ts):
    """The signature time-stamp's status (PAdES B-T), or None without one."""
    if ts is None:
        return None
    return {
        "intact": ts.intact,
        "valid": ts.valid,
        "trusted": ts.trusted,
        "time": ts.timestamp.isoformat(),
        "tsa": ts.signing_cert.subject.human_friendly,
    }


def main() -> None:
    pdf_path = sys.argv[1]
    roots = []
    for root_path in sys.argv[2:]:
        with open(root_path, "rb") as f:
            data = f.read()
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        roots.append(x509.Certificate.load(data))
    out = []
    with open(pdf_path, "rb") as f:
        reader = PdfFileReader(f, strict=False)
        for sig in reader.embedded_signatures:
            vc = ValidationContext(trust_roots=roots)
            status = validate_pdf_signature(sig, vc)
            out.append(
                {
                    "field": sig.field_name,
                    "intact": status.intact,
                    "valid": status.valid,
                    "trusted": status.trusted,
                    "coverage": status.coverage.name if status.coverage else None,
                    "modification_level": (
                        status.modification_level.name
                        if status.modification_level
                        else None
                    ),
                    "bottom_line": status.bottom_line,
                    "signer": status.signing_cert.subject.human_friendly,
                    "timestamp": timestamp(status.timestamp_validity),
                }
            )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
