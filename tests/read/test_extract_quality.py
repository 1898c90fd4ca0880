#!/usr/bin/env python3
"""test_extract_quality.py — extraction quality on the real pages of
../shared/fixtures/readability/ must not regress below what it reaches
(tools/extract_quality.py; thresholds a little under the measured values:
mean F1 0.9932, F1 >= 0.80 on 100% of pages, titles 95/95 on 2026-11-26).
Uses the optimised binary ($TINGLADO_REL_BIN) when there is one."""
import os
import subprocess
import sys

import shared_fixtures  # tests/read/shared_fixtures.py

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "..")
binary = os.environ.get("TINGLADO_REL_BIN") or os.environ.get("TINGLADO_BIN") or os.path.join(root, "build", "rel", "tinglado")
fixtures = shared_fixtures.readability_dir()
if not os.path.isdir(fixtures):
    print(f"test_extract_quality: missing {fixtures}", file=sys.stderr)
    sys.exit(1)
r = subprocess.run([sys.executable, os.path.join(root, "tools", "extract_quality.py"), "--bin", binary,
                    "--fixtures", fixtures, "--quiet", "--min-mean", "0.99", "--min-frac", "0.98",
                    "--min-title", "0.98"])
print("test_extract_quality:", "ok" if r.returncode == 0 else "FAIL")
sys.exit(r.returncode)
