"""Where the shared real-page fixtures (Mozilla Readability's test pages) are.

$TG_READABILITY_FIXTURES if set; else ../shared/fixtures/readability next
to the checkout (the project's layout); else /work/shared/… (where CI runs
a clean clone somewhere else on the same machine).  The tests fail, never
skip, when none exists."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def readability_dir():
    env = os.environ.get("TG_READABILITY_FIXTURES")
    if env:
        return env
    for base in (os.path.join(ROOT, "..", "shared"), "/work/shared"):
        d = os.path.join(base, "fixtures", "readability")
        if os.path.isdir(d):
            return d
    return os.path.join(ROOT, "..", "shared", "fixtures", "readability")
