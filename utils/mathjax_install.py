"""Where MathJax is installed, how to start the worker that uses it, and the web fonts its output needs.

MathJax (npm `mathjax-full`, pinned in package.json) is looked for wherever the generator is installed, not
only in this checkout (`find_node_modules`): the folder named by the environment variable
LABML_DOCS_NODE_MODULES, then the `node_modules` folder at the root of this repository (a checkout, or an
editable install), then npm's global folder (`npm root -g`). The worker is started with NODE_PATH set to
the folder found, so `require('mathjax-full/...')` works from any folder.

The worker's CommonHTML output draws characters with MathJax's web fonts: `mathjax_font_files` says which
files to copy where (next to `static/mathjax.css`, which names them as `mathjax-fonts/...`).

`python -m utils.mathjax_install` (`make mathjax-bundle`, which `make setup` runs) also bundles the worker
with esbuild (pinned in package.json) from MathJax's TypeScript sources, which ship in the package: its `js/`
folder is compiled down to ES5, so spreads, for-of and classes run through helper functions; compiled for this
Node they run natively. Typesetting the 1,571 equations of the labml-nn 0.5.1 corpus cold took 2.9 s against
4.0 s for the plain worker (medians of 8, 2 cores), and the worker starts in 0.11 s against 0.21 s. The
answers are the same (tested). The bundle is an install artifact kept under `node_modules/.cache/` beside the MathJax it was made
from, never in the repository; a stamp records what it was made from (worker source, MathJax version, esbuild
options), and when any of them differs `worker_command` starts the plain worker: a stale or missing bundle
only costs time, never a wrong page.
"""
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES_VARIABLE = "LABML_DOCS_NODE_MODULES"
MATHJAX_PACKAGE = "mathjax-full"
MATHJAX_PIN = "3.2.2"             # as in package.json
# MathJax's web fonts (woff), and where the site serves them: the stylesheet (static/mathjax.css) names them
# relative to itself as mathjax-fonts/<file>, the FONT_FOLDER of utils/mathjax_worker.js.
FONT_SOURCE = Path("es5", "output", "chtml", "fonts", "woff-v2")
FONT_SITE_FOLDER = "static/mathjax-fonts"
BUNDLE_FOLDER = Path(".cache", "labml-docs-mathjax-worker")

# The young generation is capped at 8 MB: MathJax allocates many short-lived objects, but on the labml-nn corpus
# a larger one (16 or 32 MB) only made Node's peak larger (the build's total 270 -> 290 -> 312 MB) with no
# speed difference that stood out of the noise, on the corpus or on a 6,000-equation page. No --no-opt:
# CommonHTML output runs long enough for TurboFan to pay (without it, typesetting the labml-nn corpus took
# 1.0-1.4 s longer, bundle or not).
NODE_FLAGS = ["--max-semi-space-size=8"]

# How the bundle is compiled: MathJax's TypeScript sources instead of its js/ folder, for Node 20. Class fields
# keep TypeScript's ES5 meaning, as in MathJax's own tsconfig.json. Whitespace is dropped (names are kept), so
# Node has less source to read.
BUNDLE_FROM_TYPESCRIPT = ["--alias:mathjax-full/js=mathjax-full/ts", "--target=node20",
                          '--tsconfig-raw={"compilerOptions":{"useDefineForClassFields":false}}',
                          "--minify-whitespace"]

# NODE_EXTRA_CA_CERTS has Node parse every certificate it lists before running anything, for a worker that
# never opens a connection: with Debian's bundle it added 0.05 s to the worker's 0.2 s start.
IGNORED_NODE_VARIABLES = ("NODE_EXTRA_CA_CERTS",)


class MathJaxNotFound(RuntimeError):
    """MathJax (or its fonts) is not installed where it is looked for; the message says what to install."""


def _holds_mathjax(folder: Path) -> bool:
    return (folder / MATHJAX_PACKAGE / "package.json").is_file()


@functools.lru_cache(maxsize=None)
def _npm_global_root() -> Optional[Path]:
    """`npm root -g` (a Node start, so asked once per process), or None without npm."""
    npm = shutil.which("npm")
    if npm is None:
        return None
    try:
        done = subprocess.run([npm, "root", "-g"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    answer = done.stdout.strip()
    return Path(answer) if done.returncode == 0 and answer else None


def find_node_modules() -> Optional[Path]:
    """The `node_modules` folder holding mathjax-full, or None: $LABML_DOCS_NODE_MODULES if set, then this
    repository's root (the folder above the generator's code), then npm's global folder."""
    candidates = []
    if os.environ.get(NODE_MODULES_VARIABLE):
        candidates.append(Path(os.environ[NODE_MODULES_VARIABLE]))
    candidates.append(REPO_ROOT / "node_modules")
    for folder in candidates:
        if _holds_mathjax(folder):
            return folder.resolve()
    folder = _npm_global_root()
    if folder is not None and _holds_mathjax(folder):
        return folder.resolve()
    return None


def missing_mathjax_message() -> str:
    """One line saying what to install, for when `find_node_modules` finds nothing."""
    where = os.environ.get(NODE_MODULES_VARIABLE)
    folder = Path(where).parent if where else REPO_ROOT
    return (f"MathJax is not installed: run `npm install {MATHJAX_PACKAGE}@{MATHJAX_PIN}` in {folder}, or "
            f"`npm ci` in the generator's repository (or set {NODE_MODULES_VARIABLE} to the node_modules "
            f"folder that holds {MATHJAX_PACKAGE})")


def _require_node_modules() -> Path:
    folder = find_node_modules()
    if folder is None:
        raise MathJaxNotFound(missing_mathjax_message())
    return folder


def mathjax_version() -> Optional[str]:
    """The version of the MathJax `find_node_modules` finds, or None when it finds none."""
    folder = find_node_modules()
    if folder is None:
        return None
    try:
        return json.loads((folder / MATHJAX_PACKAGE / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def mathjax_font_files() -> Dict[str, Path]:
    """{site path: font file to copy there}, e.g. {"static/mathjax-fonts/MathJax_Main-Regular.woff": Path(...)}
    for every web font of the installed MathJax's CommonHTML output; raises MathJaxNotFound without them."""
    folder = _require_node_modules() / MATHJAX_PACKAGE / FONT_SOURCE
    fonts = {f"{FONT_SITE_FOLDER}/{path.name}": path for path in sorted(folder.glob("*.woff"))}
    if not fonts:
        raise MathJaxNotFound(f"MathJax's fonts are missing ({folder}): {missing_mathjax_message()}")
    return fonts


def worker_environment() -> dict:
    """The worker's environment: ours with NODE_PATH naming MathJax's folder, less IGNORED_NODE_VARIABLES."""
    env = {name: value for name, value in os.environ.items() if name not in IGNORED_NODE_VARIABLES}
    folder = find_node_modules()
    if folder is not None:
        env["NODE_PATH"] = os.pathsep.join([str(folder), *filter(None, [os.environ.get("NODE_PATH")])])
    return env


# -- the bundle ------------------------------------------------------------------------------------------

def bundle_folder() -> Optional[Path]:
    folder = find_node_modules()
    return folder / BUNDLE_FOLDER if folder is not None else None


def _stamp(worker: Path) -> dict:
    return {"worker_sha256": hashlib.sha256(worker.read_bytes()).hexdigest(), "mathjax": mathjax_version(),
            "bundle": BUNDLE_FROM_TYPESCRIPT}


def worker_bundle(worker: Path, folder: Optional[Path] = None) -> Optional[Path]:
    """The bundle of `worker`, or None when there is none made from exactly this worker and MathJax."""
    folder = folder or bundle_folder()
    if folder is None:
        return None
    bundle = folder / "worker.bundle.js"
    try:
        recorded = json.loads((folder / "stamp.json").read_text())
        return bundle if bundle.is_file() and recorded == _stamp(worker) else None
    except (OSError, ValueError):
        return None


def worker_command(node: str, worker: Path, folder: Optional[Path] = None) -> List[str]:
    """How to start `worker`: its bundle when there is a current one, else the worker itself."""
    bundle = worker_bundle(worker, folder)
    return [node, *NODE_FLAGS, str(bundle if bundle is not None else worker)]


def make_bundle(worker: Path, folder: Optional[Path] = None) -> Path:
    """Bundle `worker` with MathJax into `folder`; the stamp is written last, so a failure leaves none."""
    node_modules = _require_node_modules()
    folder = folder or bundle_folder()
    esbuild = node_modules / ".bin" / "esbuild"
    if not esbuild.exists():
        raise RuntimeError(f"{esbuild} is missing: run `npm ci` in the generator's repository (or `make setup`)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stamp.json").unlink(missing_ok=True)
    bundle = folder / "worker.bundle.js"
    step = [str(esbuild), str(worker), "--bundle", "--platform=node", *BUNDLE_FROM_TYPESCRIPT,
            "--log-level=warning", f"--outfile={bundle}"]
    done = subprocess.run(step, cwd=str(node_modules.parent), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, env=worker_environment())
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(step)} failed ({done.returncode}): {(done.stderr or done.stdout)[-1500:]}")
    (folder / "stamp.json").write_text(json.dumps(_stamp(worker), sort_keys=True) + "\n")
    return bundle


def main() -> int:
    from .typeset_math import WORKER

    folder = find_node_modules()
    if folder is None:
        print(f"mathjax_install: {missing_mathjax_message()}", file=sys.stderr)
        return 1
    print(f"MathJax {mathjax_version()} in {folder}")
    if worker_bundle(WORKER) is not None:
        print(f"MathJax worker bundle is up to date ({bundle_folder()})")
        return 0
    try:
        bundle = make_bundle(WORKER)
    except (RuntimeError, OSError) as error:
        # Not fatal: the plain worker gives the same pages, only slower.
        print(f"mathjax_install: warning: {error} (builds use the plain worker, which is slower)", file=sys.stderr)
        return 0
    print(f"made the MathJax worker bundle {bundle} ({bundle.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
