"""Adds a document time-stamp (PAdES B-LTA's /DocTimeStamp, /SubFilter
/ETSI.RFC3161) to a PDF with pyHanko, from a TSA over HTTP, as an
incremental update.

usage: timestamp.py IN.pdf OUT.pdf TSA_URL
"""

import sys

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers, timestamps


def main() -> None:
    src, dst, url = sys.argv[1:4]
    stamper = signers.PdfTimeStamper(timestamps.HTTPTimeStamper(url))
    with open(src, "rb") as inp:
        writer = IncrementalPdfFileWriter(inp, strict=False)
        with open(dst, "wb") as out:
            stamper.timestamp_pdf(writer, "sha256", output=out)


if __name__ == "__main__":
    main()
