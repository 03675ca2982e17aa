"""Prints dcap-qvl's verdict for a quote and its collateral at a fixed time, as JSON:
{"status": …, "advisory_ids": […]} or {"error": "…"} when dcap-qvl rejects it.

    python3 dcap_qvl_verdict.py QUOTE COLLATERAL_JSON NOW [FLIP_OFFSET]

Used by the Swift test that cross-checks our verifier against dcap-qvl (Phala-Network's Rust verifier)."""
import json
import sys

import dcap_qvl

quote = bytearray(open(sys.argv[1], "rb").read())
collateral = dcap_qvl.QuoteCollateralV3.from_json(open(sys.argv[2]).read())
now = int(sys.argv[3])
if len(sys.argv) > 4:
    quote[int(sys.argv[4])] ^= 1
try:
    report = dcap_qvl.verify(bytes(quote), collateral, now)
    print(json.dumps({"status": report.status, "advisory_ids": sorted(report.advisory_ids)}))
except Exception as error:  # dcap-qvl rejects with an exception
    print(json.dumps({"error": str(error)}))
