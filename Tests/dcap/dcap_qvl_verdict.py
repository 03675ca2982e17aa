"""Prints dcap-qvl's verdict for a quote and its collateral at a fixed time, as JSON:
{"status": …, "advisory_ids": […]} when it accepts, {"rejected": "…"} when it rejects.

    python3 dcap_qvl_verdict.py QUOTE COLLATERAL_JSON NOW [FLIP_OFFSET]

Used by the Swift test that cross-checks our verifier against dcap-qvl (Phala-Network's Rust verifier).
Only dcap-qvl's own verdict counts as a rejection: it raises ValueError("Verification failed: REASON").
Anything else (a missing module, bad arguments, collateral it cannot read, another exception) is not a
verdict, so it propagates: the script exits non-zero with the traceback and the test fails."""
import json
import sys

import dcap_qvl

PREFIX = "Verification failed: "

quote = bytearray(open(sys.argv[1], "rb").read())
collateral = dcap_qvl.QuoteCollateralV3.from_json(open(sys.argv[2]).read())
now = int(sys.argv[3])
if len(sys.argv) > 4:
    quote[int(sys.argv[4])] ^= 1
try:
    report = dcap_qvl.verify(bytes(quote), collateral, now)
except ValueError as error:
    if not str(error).startswith(PREFIX):
        raise
    print(json.dumps({"rejected": str(error)[len(PREFIX):]}))
else:
    print(json.dumps({"status": report.status, "advisory_ids": sorted(report.advisory_ids)}))
