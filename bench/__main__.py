"""Run the benchmarks; each writes bench/results/<name>.json, then a summary and a plot.

    python -m bench                # every module in bench/ that defines main()
    python -m bench --quick        # the quick set (< 3 minutes): QUICK below, smaller runs
    python -m bench stream learn   # just these

After the runs, bench/results/summary.md and bench/results/plot.png are rebuilt from every
JSON in the folder (bench/report.py).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import time
from pathlib import Path

# Quick mode: what proves the harness and the headline figures in under three minutes
QUICK = ("coldstart", "stream", "learn", "kit")
NOT_BENCHMARKS = {"common", "load", "report"}


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    argv = [a for a in argv if a != "--quick"]
    here = Path(__file__).resolve().parent
    names = argv or (list(QUICK) if quick else sorted(
        m.name for m in pkgutil.iter_modules([str(here)])
        if not m.name.startswith("_") and m.name not in NOT_BENCHMARKS))
    failed = []
    t_all = time.monotonic()
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        run = getattr(module, "main", None)
        if run is None:
            continue
        print(f"== bench {name}{' (quick)' if quick else ''}", flush=True)
        t0 = time.monotonic()
        try:
            if "quick" in inspect.signature(run).parameters:
                run(quick=quick)
            else:
                run()
        except Exception as exc:  # keep going: one broken bench must not hide the others
            print(f"!! bench {name} failed: {exc!r}", flush=True)
            failed.append(name)
        print(f"== bench {name} took {time.monotonic() - t0:.1f}s", flush=True)
    from bench.report import write_report

    write_report()
    print(f"== all benchmarks took {time.monotonic() - t_all:.1f}s"
          + (f"; failed: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
