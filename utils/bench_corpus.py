"""`make bench-corpus`: our site build on a real corpus, the labml-nn 0.5.1 package, against pycco.

`make bench-docs` (utils/bench.py) times our own few pages; this one times the site generator on the corpus
it was modelled on: labml-nn 0.5.1 from PyPI (221 modules, about 38k lines and 3,400 equations). The wheel
is downloaded once with `pip download` into `.bench-cache/` (git-ignored) and unpacked there; each run
builds from a copy in a temporary folder, so the one-file edit below can never leave the cache changed.

Every figure comes from a command a user would run, as a subprocess with OMP_NUM_THREADS=1 and Python
bytecode kept (in a folder of the run's own, so the first cold build compiles it, as a first run would, and
later runs load it, as from an installed package):

* **wall time**, around the subprocess;
* **CPU time**, user + sys from `os.wait4` on the child: it includes the MathJax Node worker, which the
  build reaps before it exits (so 2 cores can give CPU > wall);
* **peak memory**: `ru_maxrss` from `os.wait4` is the largest *single* process of the tree (the build or
  its Node worker, whichever is larger; never below this benchmark's own RSS, which the child shares between
  fork and exec), so a thread also samples the RSS of the whole process tree from
  /proc every 20 ms; "peak RSS (python + node)" is the largest sampled sum (a sample can miss a peak
  shorter than 20 ms).

Measured, in one run:

1. **ours, cold**: `python -m utils.build` into an empty folder with a fresh cache (median of --repeats);
2. **pycco 0.6.0** over the same .py files (median of --repeats); it typesets no math;
3. **ours, no change**: the same build command again (median of 5);
4. **ours, one-file edit**: a line `# edit N` (a new N each time) appended to transformers/mha.py, then
   the build again (median of 5); the file is restored afterwards;
5. **the big file**: a generated module of about 18,000 lines with 6,000 distinct equations (inline `$...$`
   and display `$$...$$`, in docstrings and `#` comments beside code), one cold build in its own source
   folder (once, not --repeats times: it takes longer than the whole corpus).

Of the first cold build's output it reports the equations typeset (`<mjx-container` count), a cheap count of
TeX left raw in the visible text, the bytes of the whole folder, and the bytes of our pages against those of
the same pages on nn.labml.ai (`../shared/corpus/nn-labml-ai-page-sizes.txt`, skipped when absent).

Our build may exit non-zero on this corpus (it has broken links): the exit code and the number of stderr lines
are reported and the measuring goes on; only a build that wrote no index.html stops the benchmark. Goals are
printed as met/MISSED; nothing fails on a missed goal. The machines are shared, so timings are noisy.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from .bench import TYPESET_COUNT, _count_equations, _ours_command, _pycco_command

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_PACKAGE = "labml-nn==0.5.1"
WHEEL_GLOB = "labml_nn-0.5.1-*.whl"
DEFAULT_CACHE = REPO_ROOT / ".bench-cache"
UNPACKED_NAME = "labml-nn-0.5.1"          # folder in the cache that holds labml_nn/
NN_LABML_SIZES = REPO_ROOT.parent / "shared" / "corpus" / "nn-labml-ai-page-sizes.txt"
EDITED_FILE = "transformers/mha.py"        # a mid-sized module (about 7 kB)
REBUILD_REPEATS = 5
SAMPLE_INTERVAL_S = 0.02
MB = 1_000_000

GOAL_COLD_VS_PYCCO = 1.0
GOAL_EDIT_S = 0.3
GOAL_NO_CHANGE_S = 0.15
GOAL_PEAK_MB = 300
GOAL_OUTPUT_VS_NN_LABML = 1.0
GOAL_BIG_FILE_S = 10.0
BIG_FILE_UNITS = 600                       # 30 lines and 10 equations each
BIG_FILE_NAME = "synthetic_layers.py"


# --- running one command, measured ---------------------------------------------------------------------

@dataclass
class Run:
    wall_s: float
    cpu_s: float                 # user + sys of the child and the children it reaped (the Node worker)
    max_rss_kb: int              # wait4: the largest single process of the tree
    tree_peak_kb: int            # sampled: the largest sum over the process tree
    root_peak_kb: int            # sampled: the command's own process (python)
    descendants_peak_kb: int     # sampled: its children together (node)
    returncode: int
    stdout: str
    stderr_lines: int


class TreeMemorySampler(threading.Thread):
    """Samples the RSS of a process and all its descendants from /proc, for the peak of their sum.

    Descendants are found by parent pid (this kernel has no /proc/PID/task/TID/children). Only pids above the
    root's are read: children get later pids, barring a wrap-around of the pid counter, and this keeps a sample
    to a few files.
    """

    def __init__(self, root_pid: int):
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.tree_peak_kb = self.root_peak_kb = self.descendants_peak_kb = 0
        self._stopping = threading.Event()
        self._page_kb = os.sysconf("SC_PAGE_SIZE") // 1024

    def stop(self) -> None:
        self._stopping.set()
        self.join()

    def run(self) -> None:
        while not self._stopping.is_set():
            self._sample()
            self._stopping.wait(SAMPLE_INTERVAL_S)

    def _sample(self) -> None:
        rss = {pid: self._rss_kb(pid) for pid in self._tree()}
        root = rss.pop(self.root_pid, 0)
        descendants = sum(rss.values())
        self.root_peak_kb = max(self.root_peak_kb, root)
        self.descendants_peak_kb = max(self.descendants_peak_kb, descendants)
        self.tree_peak_kb = max(self.tree_peak_kb, root + descendants)

    def _tree(self) -> set[int]:
        parents = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and int(entry.name) > self.root_pid:
                parent = _parent_pid(int(entry.name))
                if parent is not None:
                    parents[int(entry.name)] = parent
        tree, grown = {self.root_pid}, True
        while grown:
            found = {pid for pid, parent in parents.items() if parent in tree} - tree
            tree |= found
            grown = bool(found)
        return tree

    def _rss_kb(self, pid: int) -> int:
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * self._page_kb
        except (OSError, IndexError, ValueError):
            return 0  # it exited between the listing and the read


def _parent_pid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
            return int(stat.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def measured_environment(pycache: Path | None = None) -> dict:
    """The environment of a measured command. With `pycache`, Python writes and reads its bytecode there, as
    an installed package has it, even where PYTHONDONTWRITEBYTECODE is set (these machines set it, and every
    rebuild then compiled the generator's changed modules from source, which a user's rebuild does not)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


PYCACHE: Path | None = None   # set by `bench` for its run: a private bytecode folder


def run_measured(command: list[str], cwd: Path) -> Run:
    """Run one command to the end, whatever its exit code, with its wall time, CPU time and memory."""
    env = measured_environment(PYCACHE)
    # Output to files, not pipes: nothing has to read them while os.wait4 waits.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        sampler = TreeMemorySampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here; Popen must not wait again
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    return Run(wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime, max_rss_kb=usage.ru_maxrss,
               tree_peak_kb=sampler.tree_peak_kb, root_peak_kb=sampler.root_peak_kb,
               descendants_peak_kb=sampler.descendants_peak_kb, returncode=process.returncode,
               stdout=stdout, stderr_lines=len(stderr.splitlines()))


# --- the corpus -----------------------------------------------------------------------------------------

def download_wheel(cache: Path) -> Path:
    """The labml-nn 0.5.1 wheel, from the cache or else from PyPI through pip."""
    found = sorted(cache.glob(WHEEL_GLOB))
    if found:
        return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    print(f"bench-corpus: downloading {CORPUS_PACKAGE} into {cache}/", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "--disable-pip-version-check", "-q", CORPUS_PACKAGE, "-d", str(cache)], check=True)
    found = sorted(cache.glob(WHEEL_GLOB))
    if not found:
        raise SystemExit(f"bench-corpus: pip download left no {WHEEL_GLOB} in {cache}")
    return found[0]


def unpack_corpus(wheel: Path, cache: Path) -> Path:
    """The folder holding the wheel's labml_nn/, unpacked once (into a temporary name, so a run cut short
    leaves no half-unpacked corpus behind)."""
    target = cache / UNPACKED_NAME
    if (target / "labml_nn").is_dir():
        return target
    partial = cache / (UNPACKED_NAME + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(partial, [name for name in archive.namelist() if name.startswith("labml_nn/")])
    partial.rename(target)
    return target


def find_package(corpus_dir: Path) -> Path:
    """`labml_nn/` in --corpus-dir, or --corpus-dir itself when it is that folder."""
    package = corpus_dir / "labml_nn"
    if package.is_dir():
        return package
    if (corpus_dir / "__init__.py").is_file():
        return corpus_dir
    raise SystemExit(f"bench-corpus: no labml_nn/ package in {corpus_dir}")


def python_files(package: Path) -> list[Path]:
    """The corpus's .py files, relative to the folder above the package (pycco is run from there)."""
    return sorted(p.relative_to(package.parent) for p in package.rglob("*.py"))


# --- the big file ---------------------------------------------------------------------------------------

def synthetic_unit(k: int) -> str:
    """30 lines of a plausible module with 10 equations, each made distinct by the unit number `k`."""
    return f'''

class GatedLayer{k}(nn.Module):
    r"""
    ## Gated layer {k}

    It projects the input with $W^{{({k})}} \\in \\mathbb{{R}}^{{d \\times d}}$ and gates the result with
    $g_{{{k}}} = \\sigma(U^{{({k})}} x + c_{{{k}}})$, so that

    $$h^{{({k})}}_t = g_{{{k}}} \\odot \\tanh(W^{{({k})}} x_t + b_{{{k}}}) + (1 - g_{{{k}}}) \\odot h_{{t-{k}}}$$
    """

    def __init__(self, d_model: int, dropout: float = 0.{k % 10}):
        super().__init__()
        # Projection $W^{{({k})}} x + b_{{{k}}}$
        self.linear = nn.Linear(d_model, d_model)
        # Gate $U^{{({k})}} x + c_{{{k}}}$, squashed into $(0, {k + 1})$
        self.gate = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, h: torch.Tensor):
        # $$\\mu_{{{k}}} = \\frac{{1}}{{d}} \\sum_{{j=1}}^{{d}} x_j + {k}$$
        mean = x.mean(dim=-1, keepdim=True)
        # $$\\sigma^2_{{{k}}} = \\frac{{1}}{{d}} \\sum_{{j=1}}^{{d}} \\left(x_j - \\mu_{{{k}}}\\right)^2$$
        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
        # Normalized $\\hat{{x}}_{{{k}}} = \\frac{{x - \\mu_{{{k}}}}}{{\\sqrt{{\\sigma^2_{{{k}}} + \\epsilon}}}}$
        x = (x - mean) / torch.sqrt(var + 1e-5)
        # $g_{{{k}}} \\odot \\tanh(\\cdot) + (1 - g_{{{k}}}) \\odot h_{{t-{k}}}$
        g = torch.sigmoid(self.gate(x))
        return g * torch.tanh(self.dropout(self.linear(x))) + (1 - g) * h
'''


def write_big_module(folder: Path) -> tuple[int, int]:
    """The big module in `folder`; returns (lines, equations)."""
    header = ('r"""\n# Synthetic gated layers\n\nA generated module for timing: '
              f"{BIG_FILE_UNITS} layers, each with its equations.\n" + '"""\n\nimport torch\nfrom torch import nn\n')
    text = header + "".join(synthetic_unit(k) for k in range(BIG_FILE_UNITS))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / BIG_FILE_NAME).write_text(text, encoding="utf-8")
    return text.count("\n"), 10 * BIG_FILE_UNITS


# --- the output -----------------------------------------------------------------------------------------

# What a reader does not see as text: the head, scripts, styles, code and the typeset math itself.
HIDDEN_PARTS = re.compile(r"<(head|script|style|pre|code|mjx-container)\b.*?</\1>", re.S)
TAG = re.compile(r"<[^>]+>")
RAW_TEX = {  # one count per leftover equation, not per marker
    "$$...$$": re.compile(r"\$\$[^$]+\$\$"),
    "\\begin{": re.compile(r"\\begin\{"),
    "$...\\macro...$": re.compile(r"(?<!\$)\$(?=[^\s$])[^$\n]*\\[A-Za-z]+[^$\n]*(?<=[^\s$])\$(?!\$)"),
}


def raw_tex_leftovers(site: Path) -> dict[str, int]:
    """TeX that MathJax did not take, by a cheap heuristic: markers left in the visible text of the pages."""
    counts = dict.fromkeys(RAW_TEX, 0)
    for page in site.rglob("*.html"):
        text = html.unescape(TAG.sub(" ", HIDDEN_PARTS.sub(" ", page.read_text(encoding="utf-8"))))
        for name, pattern in RAW_TEX.items():
            counts[name] += len(pattern.findall(text))
    return counts


def page_sizes(site: Path) -> dict[str, int]:
    return {page.relative_to(site).as_posix(): page.stat().st_size for page in site.rglob("*.html")}


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def read_nn_labml_sizes(path: Path) -> dict[str, int] | None:
    """nn.labml.ai's page sizes by our page path (`docs/X.html` -> `X.html`); None when the list is absent."""
    if not path.is_file():
        return None
    sizes = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        size, name = line.split(maxsplit=1)
        if name.startswith("docs/") and name.endswith(".html"):
            sizes[name[len("docs/"):]] = int(size)
    return sizes


def compare_with_nn_labml(ours: dict[str, int], theirs: dict[str, int] | None) -> dict | None:
    if theirs is None:
        return None
    common = sorted(set(ours) & set(theirs))
    ours_total, theirs_total = sum(ours[p] for p in common), sum(theirs[p] for p in common)
    largest = sorted(common, key=lambda p: ours[p] / max(theirs[p], 1), reverse=True)[:5]
    return {
        "pages_matched": len(common), "ours_pages": len(ours), "their_pages": len(theirs),
        "ours_bytes": ours_total, "their_bytes": theirs_total,
        "ratio": ours_total / theirs_total if theirs_total else None,
        "largest_ratios": [(p, ours[p], theirs[p], ours[p] / max(theirs[p], 1)) for p in largest],
    }


def inspect_output(site: Path, nn_labml_sizes: Path) -> dict:
    sizes = page_sizes(site)
    return {
        "pages": len(sizes),
        "page_bytes": sum(sizes.values()),
        "folder_bytes": folder_bytes(site),
        "mjx_containers": _count_equations(site),
        "raw_tex_leftovers": raw_tex_leftovers(site),
        "nn_labml": compare_with_nn_labml(sizes, read_nn_labml_sizes(nn_labml_sizes)),
    }


# --- the measurements -----------------------------------------------------------------------------------

def typeset_count(run: Run) -> int | None:
    match = TYPESET_COUNT.search(run.stdout)
    return int(match.group(1)) if match else None


def require_index(site: Path, run: Run, what: str) -> None:
    """The one failure: a build that produced no site cannot be measured further."""
    if not (site / "index.html").is_file():
        raise SystemExit(f"bench-corpus: {what} wrote no {site / 'index.html'} (exit code {run.returncode}, "
                         f"{run.stderr_lines} stderr lines); nothing to measure")


def time_cold_builds(package: Path, work: Path, repeats: int) -> list[Run]:
    runs = []
    for attempt in range(repeats):
        folder = work / f"ours-{attempt}"
        run = run_measured(_ours_command(package, folder / "out", folder / "cache"), REPO_ROOT)
        require_index(folder / "out", run, "our cold build")
        runs.append(run)
    return runs


def time_pycco(package: Path, work: Path, repeats: int) -> tuple[list[Run], int]:
    # Relative paths, run from the folder above the package: with -p, pycco mirrors them under its output.
    sources = python_files(package)
    runs = []
    for attempt in range(repeats):
        out = work / f"pycco-{attempt}"
        runs.append(run_measured(_pycco_command(sources, out), package.parent))
        pages = sum(1 for _ in out.rglob("*.html"))
        shutil.rmtree(out, ignore_errors=True)
    return runs, pages


def time_rebuilds(package: Path, folder: Path) -> list[Run]:
    command = _ours_command(package, folder / "out", folder / "cache")
    return [run_measured(command, REPO_ROOT) for _ in range(REBUILD_REPEATS)]


def time_one_file_edits(package: Path, folder: Path) -> list[Run]:
    edited = package / EDITED_FILE
    original = edited.read_bytes()
    command = _ours_command(package, folder / "out", folder / "cache")
    runs = []
    try:
        for n in range(1, REBUILD_REPEATS + 1):
            # A new line each time, so every rebuild has a real change to make.
            edited.write_bytes(original + f"# edit {n}\n".encode())
            runs.append(run_measured(command, REPO_ROOT))
    finally:
        edited.write_bytes(original)
    return runs


def time_big_file(work: Path) -> dict:
    source, folder = work / "big-source", work / "big"
    lines, equations = write_big_module(source)
    runs = [run_measured(_ours_command(source, folder / "out", folder / "cache"), REPO_ROOT)]
    page = folder / "out" / BIG_FILE_NAME.replace(".py", ".html")
    return {
        "lines": lines, "equations": equations, "runs": runs, "typeset": typeset_count(runs[0]),
        "mjx_containers": page.read_text(encoding="utf-8").count("<mjx-container") if page.is_file() else None,
    }


def bench(package: Path, repeats: int, skip_big: bool, nn_labml_sizes: Path) -> dict:
    global PYCACHE
    work = Path(tempfile.mkdtemp(prefix="bench-corpus-"))
    PYCACHE = work / "pycache"   # written by the first cold build (ours and pycco's), used from then on
    try:
        # A private copy: the edits below must never touch the cached corpus (or a folder given by the user).
        corpus = work / "corpus" / package.name
        shutil.copytree(package, corpus)
        modules = python_files(corpus)
        lines = sum((corpus.parent / m).read_bytes().count(b"\n") for m in modules)
        print(f"bench-corpus: {len(modules)} modules, {lines} lines; timing (results at the end)", flush=True)
        cold = time_cold_builds(corpus, work, repeats)
        output = inspect_output(work / "ours-0" / "out", nn_labml_sizes)
        for attempt in range(1, repeats):  # only the first cold build's output is used from here on
            shutil.rmtree(work / f"ours-{attempt}", ignore_errors=True)
        pycco, pycco_pages = time_pycco(corpus, work, repeats)
        no_change = time_rebuilds(corpus, work / "ours-0")
        edits = time_one_file_edits(corpus, work / "ours-0")
        big = None if skip_big else time_big_file(work)
        return {"modules": len(modules), "lines": lines, "cold": cold, "pycco": pycco, "pycco_pages": pycco_pages,
                "typeset": typeset_count(cold[0]), "no_change": no_change, "edits": edits, "big": big,
                "output": output}
    finally:
        PYCACHE = None
        shutil.rmtree(work, ignore_errors=True)


# --- the report -----------------------------------------------------------------------------------------

def median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(run, field) for run in runs)


def peak_mb(runs: list[Run], field: str) -> float:
    return max(getattr(run, field) for run in runs) * 1024 / MB


def timing_line(label: str, runs: list[Run]) -> str:
    walls = ", ".join(f"{run.wall_s:.2f}" for run in runs)
    return (f"{label:<28} wall {median(runs, 'wall_s'):7.3f} s  CPU {median(runs, 'cpu_s'):7.3f} s  "
            f"(median of {len(runs)}; walls {walls})")


def memory_line(label: str, runs: list[Run]) -> str:
    return (f"{label:<28} peak RSS (python + node) {peak_mb(runs, 'tree_peak_kb'):6.1f} MB  "
            f"[python {peak_mb(runs, 'root_peak_kb'):.1f}, node {peak_mb(runs, 'descendants_peak_kb'):.1f} "
            f"sampled; largest single process (wait4) {peak_mb(runs, 'max_rss_kb'):.1f} MB]")


def exit_line(label: str, runs: list[Run]) -> str:
    codes = sorted({run.returncode for run in runs})
    lines = sorted({run.stderr_lines for run in runs})
    return f"{label:<28} exit code {'/'.join(map(str, codes))}, {'/'.join(map(str, lines))} stderr lines"


def goal_line(text: str, value: float | None, limit: float, shown: str) -> str:
    verdict = "not measured" if value is None else ("met" if value <= limit else "MISSED")
    return f"goal: {text:<47} {shown:<10} {verdict}"


def output_lines(output: dict) -> list[str]:
    leftovers = output["raw_tex_leftovers"]
    lines = [
        f"output: {output['pages']} pages, {output['page_bytes'] / MB:.1f} MB of .html; whole folder "
        f"{output['folder_bytes'] / MB:.1f} MB (assets included)",
        f"equations on the pages: {output['mjx_containers']} <mjx-container>; raw TeX left in visible text: "
        f"{sum(leftovers.values())} (" + ", ".join(f"{k} {v}" for k, v in leftovers.items()) + ")",
    ]
    nn = output["nn_labml"]
    if nn is None:
        return lines + [f"size vs nn.labml.ai: skipped ({NN_LABML_SIZES} not found)"]
    if nn["ratio"] is None:
        return lines + ["size vs nn.labml.ai: no page in both"]
    lines.append(f"size vs nn.labml.ai: {nn['pages_matched']} pages in both (of our {nn['ours_pages']}, their "
                 f"{nn['their_pages']}): ours {nn['ours_bytes'] / MB:.2f} MB, theirs {nn['their_bytes'] / MB:.2f} MB, "
                 f"ratio {nn['ratio']:.2f}")
    for page, ours, theirs, ratio in nn["largest_ratios"]:
        lines.append(f"    {ratio:5.2f}x  {page}  ({ours} vs {theirs} bytes)")
    return lines


def report(result: dict) -> str:
    cold, pycco, no_change, edits, big = (result[k] for k in ("cold", "pycco", "no_change", "edits", "big"))
    wall_ratio = median(cold, "wall_s") / median(pycco, "wall_s")
    cpu_ratio = median(cold, "cpu_s") / median(pycco, "cpu_s")
    typeset = "?" if result["typeset"] is None else result["typeset"]
    lines = [
        f"corpus: {CORPUS_PACKAGE}, {result['modules']} modules, {result['lines']} lines; "
        f"ours typeset {typeset} distinct equations cold; pycco wrote {result['pycco_pages']} pages, no math",
        timing_line("ours, cold (fresh cache)", cold),
        timing_line("pycco 0.6.0", pycco),
        timing_line("ours, no-change rebuild", no_change),
        timing_line("ours, one-file edit", edits) + f"  [{EDITED_FILE}]",
        f"{'ratio ours/pycco (cold)':<28} wall {wall_ratio:7.2f}    CPU {cpu_ratio:7.2f}",
        memory_line("ours, cold", cold),
        memory_line("pycco 0.6.0", pycco),
        exit_line("ours, cold", cold),
        exit_line("ours, no-change", no_change),
        exit_line("ours, one-file edit", edits),
    ]
    if big is not None:
        big_typeset = "?" if big["typeset"] is None else big["typeset"]
        lines += [
            timing_line("big file, cold", big["runs"]) + f"  [{big['lines']} lines, {big['equations']} equations; "
            f"typeset {big_typeset}, {big['mjx_containers']} <mjx-container> on the page]",
            memory_line("big file, cold", big["runs"]),
            exit_line("big file, cold", big["runs"]),
        ]
    lines += output_lines(result["output"])
    nn = result["output"]["nn_labml"]
    nn_ratio = nn["ratio"] if nn else None
    cold_peak = peak_mb(cold, "tree_peak_kb")
    big_wall = median(big["runs"], "wall_s") if big else None
    lines += [
        goal_line(f"cold wall <= {GOAL_COLD_VS_PYCCO}x pycco", wall_ratio, GOAL_COLD_VS_PYCCO, f"{wall_ratio:.2f}x"),
        goal_line(f"one-file edit <= {GOAL_EDIT_S} s", median(edits, "wall_s"), GOAL_EDIT_S,
                  f"{median(edits, 'wall_s'):.3f} s"),
        goal_line(f"no-change rebuild <= {GOAL_NO_CHANGE_S} s", median(no_change, "wall_s"), GOAL_NO_CHANGE_S,
                  f"{median(no_change, 'wall_s'):.3f} s"),
        goal_line(f"peak memory (cold, python + node) <= {GOAL_PEAK_MB} MB", cold_peak, GOAL_PEAK_MB,
                  f"{cold_peak:.1f} MB"),
        goal_line(f"output <= {GOAL_OUTPUT_VS_NN_LABML}x nn.labml.ai HTML", nn_ratio, GOAL_OUTPUT_VS_NN_LABML,
                  "skipped" if nn_ratio is None else f"{nn_ratio:.2f}x"),
        goal_line(f"{6000:,}-equation file <= {GOAL_BIG_FILE_S} s", big_wall, GOAL_BIG_FILE_S,
                  "skipped" if big_wall is None else f"{big_wall:.3f} s"),
    ]
    return "\n".join(lines)


def as_json(result: dict) -> dict:
    """The figures without the captured stdout (which can be long)."""
    def runs(items):
        return [{k: v for k, v in asdict(run).items() if k != "stdout"} for run in items]

    figures = {k: v for k, v in result.items() if k not in ("cold", "pycco", "no_change", "edits", "big")}
    figures.update({k: runs(result[k]) for k in ("cold", "pycco", "no_change", "edits")})
    if result["big"] is not None:
        figures["big"] = dict(result["big"], runs=runs(result["big"]["runs"]))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time our site build on the labml-nn 0.5.1 corpus against pycco "
                                                 "(make bench-corpus).")
    parser.add_argument("--repeats", type=int, default=3, help="cold builds per tool (median reported)")
    parser.add_argument("--corpus-dir", type=Path,
                        help="an unpacked corpus (the folder holding labml_nn/) instead of downloading the wheel")
    parser.add_argument("--skip-big", action="store_true", help="do not time the generated 6,000-equation module")
    parser.add_argument("--json", type=Path, help="also write the figures to this file as JSON")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        raise SystemExit("bench-corpus: --repeats must be at least 1")
    if args.corpus_dir is not None:
        package = find_package(args.corpus_dir.resolve())
    else:
        package = unpack_corpus(download_wheel(DEFAULT_CACHE), DEFAULT_CACHE) / "labml_nn"
    result = bench(package, args.repeats, args.skip_big, NN_LABML_SIZES)
    print(report(result))
    if args.json is not None:
        args.json.write_text(json.dumps(as_json(result), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
