"""Run every benchmark module in bench/ that defines main(); each writes bench/results/<name>.json.

    python -m bench            # all
    python -m bench stream     # just one
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    names = argv or sorted(m.name for m in pkgutil.iter_modules([str(here)])
                           if not m.name.startswith("_") and m.name != "common")
    failed = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        if not hasattr(module, "main"):
            continue
        print(f"== bench {name}", flush=True)
        t0 = time.monotonic()
        try:
            module.main()
        except Exception as exc:  # keep going: one broken bench must not hide the others
            print(f"!! bench {name} failed: {exc!r}", flush=True)
            failed.append(name)
        print(f"== bench {name} took {time.monotonic() - t0:.1f}s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
