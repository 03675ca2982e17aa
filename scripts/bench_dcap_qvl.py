#!/usr/bin/env python3
"""Times dcap-qvl (Phala-Network's Rust verifier, through its Python binding) on one quote and its
collateral, the same work `oauth3-enclave bench-verify` measures: decode the collateral, verify.

    bench_dcap_qvl.py QUOTE COLLATERAL_JSON NOW [RUNS]
"""
import statistics
import sys
import time

import dcap_qvl

quote = open(sys.argv[1], "rb").read()
collateral_json = open(sys.argv[2]).read()
now = int(sys.argv[3])
runs = int(sys.argv[4]) if len(sys.argv) > 4 else 500
samples = []
for round in range(runs + 20):
    start = time.perf_counter()
    report = dcap_qvl.verify(quote, dcap_qvl.QuoteCollateralV3.from_json(collateral_json), now)
    elapsed = (time.perf_counter() - start) * 1000
    if round >= 20:
        samples.append(elapsed)
samples.sort()
print(f"dcap-qvl {getattr(dcap_qvl, '__version__', '')} (Rust via Python): median {statistics.median(samples):.3f} ms, "
      f"p90 {samples[len(samples) * 9 // 10]:.3f} ms over {runs} runs, verdict {report.status}")
