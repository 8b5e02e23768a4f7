"""`make bench-docs`: our site build against pycco on the same sources, in one run.

Three times, each the wall time of the command a user would run (interpreter start included, for
both tools):

1. **ours, cold**: `python -m utils.build` into an empty folder with a fresh, empty cache folder, so
   every equation goes through MathJax. What `make setup` installs is there, as pycco's installed
   bytecode is: the MathJax worker's snapshot and the compiled code of utils/ and of the templates;
2. **pycco**: pycco 0.6.0 (a benchmark-only dependency) over the same Python modules; it typesets no
   math, it only splits and highlights;
3. **ours, no change**: the same build command again over the unchanged sources.

For diagnosis it also times ours with only the math cache warm (pages rebuilt, no equation sent to
MathJax), which splits the cold time into "the pipeline" and "typesetting the math".

Cold builds are repeated (fresh folders each time) and the median is reported, since the machines
these run on are shared. Goals (issue 4): a cold build faster than pycco, a no-change rebuild under
0.2 s. The numbers are measured here, never written down by hand.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .build_cache import MATH_CACHE_FILE

REPO_ROOT = Path(__file__).resolve().parent.parent
NO_CHANGE_GOAL_S = 0.2
TYPESET_COUNT = re.compile(r"(\d+) equations typeset")


def _run_timed(command: list[str], what: str) -> tuple[float, str]:
    """Wall time of one command; a failing command stops the benchmark with its output."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    start = time.perf_counter()
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"bench-docs: {what} failed ({result.returncode}): {' '.join(command)}\n"
                         f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return seconds, result.stdout + result.stderr


def _ours_command(source: Path, out: Path, cache: Path) -> list[str]:
    return [sys.executable, "-m", "utils.build", "--source", str(source), "--out", str(out),
            "--cache-dir", str(cache)]


def _pycco_command(sources: list[Path], out: Path) -> list[str]:
    # pycco's own entry point, run by this interpreter (the venv has it installed).
    return [sys.executable, "-c", "import sys; from pycco.main import main; sys.exit(main())",
            "-d", str(out), "-p", *[str(s) for s in sources]]


def _count_equations(site: Path) -> int:
    """Typeset equations in the built pages (MathJax containers), to show every one went through MathJax."""
    return sum(page.read_text(encoding="utf-8").count("<mjx-container")
               for page in site.rglob("*.html"))


def bench(source: Path, repeats: int, no_change_repeats: int) -> dict:
    if not source.is_dir():
        raise SystemExit(f"bench-docs: no source folder {source}")
    python_sources = sorted(p.relative_to(REPO_ROOT) for p in source.resolve().rglob("*.py"))
    work = Path(tempfile.mkdtemp(prefix="bench-docs-"))
    try:
        cold, pycco, math_warm, typeset = [], [], [], None
        for attempt in range(repeats):
            ours_out, ours_cache = work / f"ours-{attempt}" / "docs", work / f"ours-{attempt}" / "cache"
            seconds, output = _run_timed(_ours_command(source, ours_out, ours_cache), "our cold build")
            cold.append(seconds)
            match = TYPESET_COUNT.search(output)
            typeset = int(match.group(1)) if match else typeset
            # Same build with the math cache from that cold build, and nothing else cached.
            math_cache = ours_cache / MATH_CACHE_FILE
            if math_cache.is_file():
                warm_cache = work / f"math-warm-{attempt}" / "cache"
                warm_cache.mkdir(parents=True)
                shutil.copy2(math_cache, warm_cache / MATH_CACHE_FILE)
                seconds, _ = _run_timed(_ours_command(source, warm_cache.parent / "docs", warm_cache),
                                        "our build with a warm math cache")
                math_warm.append(seconds)
            seconds, _ = _run_timed(_pycco_command(python_sources, work / f"pycco-{attempt}"), "pycco")
            pycco.append(seconds)
        # The no-change rebuild reuses the first cold build's output and cache.
        ours_out, ours_cache = work / "ours-0" / "docs", work / "ours-0" / "cache"
        no_change = []
        for _ in range(no_change_repeats):
            seconds, output = _run_timed(_ours_command(source, ours_out, ours_cache), "our no-change rebuild")
            no_change.append(seconds)
        equations = _count_equations(ours_out)
        pages = sum(1 for _ in ours_out.rglob("*.html"))
        pycco_pages = sum(1 for _ in (work / "pycco-0").rglob("*.html"))
        return {
            "modules": len(python_sources), "pages": pages, "pycco_pages": pycco_pages,
            "equations": equations, "typeset": typeset, "cold": cold, "pycco": pycco, "no_change": no_change,
            "math_warm": math_warm,
            "no_change_output": output.strip().splitlines()[-1] if output.strip() else "",
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(result: dict) -> str:
    cold, pycco = statistics.median(result["cold"]), statistics.median(result["pycco"])
    no_change = statistics.median(result["no_change"])
    ratio = cold / pycco
    spread = lambda times: ", ".join(f"{t:.2f}" for t in times)  # noqa: E731
    typeset = "?" if result["typeset"] is None else result["typeset"]
    said = result["no_change_output"]
    said = said[said.find(" is up to date") + 1:] if " is up to date" in said else said
    lines = [
        f"sources: {result['modules']} Python modules -> ours {result['pages']} pages with "
        f"{result['equations']} equations ({typeset} distinct, each typeset by MathJax in the cold build); "
        f"pycco {result['pycco_pages']} pages, no math",
        f"ours, cold build (fresh cache):  {cold:6.3f} s   (median of {len(result['cold'])}: {spread(result['cold'])})",
        f"pycco 0.6.0:                     {pycco:6.3f} s   (median of {len(result['pycco'])}: "
        f"{spread(result['pycco'])})",
        f"ours, no-change rebuild:         {no_change:6.3f} s   (median of {len(result['no_change'])}: "
        f"{spread(result['no_change'])}; build said: {said})",
        f"ratio ours/pycco (cold):         {ratio:6.2f}",
        f"goal: cold build faster than pycco ... {'met' if ratio < 1 else 'MISSED'}",
        f"goal: no-change rebuild < {NO_CHANGE_GOAL_S} s .. {'met' if no_change < NO_CHANGE_GOAL_S else 'MISSED'}",
    ]
    if result["math_warm"]:
        warm = statistics.median(result["math_warm"])
        lines += [
            f"diagnosis: ours with only the math cache warm: {warm:.3f} s (ratio {warm / pycco:.2f} to pycco); "
            f"so typesetting the math costs {cold - warm:.3f} s of the cold build",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time our site build against pycco (make bench-docs).")
    parser.add_argument("--source", type=Path, default=Path("labml_nn"), help="package folder to build")
    parser.add_argument("--repeats", type=int, default=3, help="cold builds per tool (median reported)")
    parser.add_argument("--no-change-repeats", type=int, default=5, help="no-change rebuilds (median reported)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        raise SystemExit("bench-docs: --repeats must be at least 1")
    if args.no_change_repeats < 1:
        raise SystemExit("bench-docs: --no-change-repeats must be at least 1")
    source = args.source if args.source.is_absolute() else REPO_ROOT / args.source
    print(report(bench(source, args.repeats, args.no_change_repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
