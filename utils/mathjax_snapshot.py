"""A V8 startup snapshot of the MathJax worker, so a cold build does not wait for Node to load MathJax.

`python -m utils.mathjax_snapshot` (run by `make setup`) bundles `mathjax_worker.js` with esbuild (pinned in
package.json) and has Node take a snapshot of its heap right after MathJax has loaded. Starting the worker
from that snapshot takes about a third of the time (0.2 s against 0.5-0.7 s here), and it answers exactly as
the plain worker does.

The snapshot is an install artifact, kept under `node_modules/.cache/` beside the MathJax it was made from,
never in the repository. A stamp records what it was made from (worker source, MathJax version, the node
binary, V8 flags); when any of them differs, `worker_command` falls back to the plain worker, so a stale or
missing snapshot only costs time, never a wrong page.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

REPO_ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT_DIR = REPO_ROOT / "node_modules" / ".cache" / "mathjax-worker-snapshot"
ESBUILD = REPO_ROOT / "node_modules" / ".bin" / "esbuild"
# A larger young generation: MathJax allocates many short-lived objects (less GC time).
# --no-opt: a build is too short for TurboFan to pay back its compile time, and its compiler threads would
# take the core Python needs; output is identical.
# --no-rehash-snapshot: keep the hash seed the snapshot was made with (random per snapshot) rather than
# rehash every string of MathJax's heap at each start (a tenth of the start-up). The seed guards against
# hash flooding by hostile input; the worker only reads the TeX of the pages being built.
# A snapshot only loads under the flags it was made with.
NODE_FLAGS = ["--max-semi-space-size=32", "--no-opt", "--no-rehash-snapshot"]

# The bundle is compiled from MathJax's TypeScript sources (shipped in the package) for this Node, rather than
# taken from its `js/` folder, which is compiled down to ES5: spreads, for-of and classes then run natively
# instead of through helper functions, and typesetting takes about a quarter less time. The answers are the
# same (tested). Class fields keep TypeScript's ES5 meaning, as in MathJax's own tsconfig.json. Whitespace is
# dropped (names are kept): the snapshot holds the source text, and a smaller one loads faster.
BUNDLE_FROM_TYPESCRIPT = ["--alias:mathjax-full/js=mathjax-full/ts", "--target=node20",
                          '--tsconfig-raw={"compilerOptions":{"useDefineForClassFields":false}}',
                          "--minify-whitespace"]

# Variables that change how Node starts but mean nothing to a worker that only reads TeX and writes SVG:
# NODE_EXTRA_CA_CERTS has Node parse every certificate it lists before running anything (here that doubled
# the worker's start), and NODE_OPTIONS could add flags a snapshot will not load under.
IGNORED_NODE_VARIABLES = ("NODE_EXTRA_CA_CERTS", "NODE_OPTIONS")


def worker_environment() -> dict:
    """The environment the worker (and the snapshot it starts from) runs in: ours, less the above."""
    return {name: value for name, value in os.environ.items() if name not in IGNORED_NODE_VARIABLES}


MATHJAX_PACKAGE = REPO_ROOT / "node_modules" / "mathjax-full" / "package.json"


def mathjax_version() -> Optional[str]:
    """The installed MathJax's version, or None when it is not installed."""
    try:
        return json.loads(MATHJAX_PACKAGE.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def _stamp(node: str, worker: Path) -> dict:
    binary = Path(node).resolve()
    stat = binary.stat()
    return {"worker_sha256": hashlib.sha256(worker.read_bytes()).hexdigest(), "mathjax": mathjax_version(),
            "node": [str(binary), stat.st_size, stat.st_mtime_ns], "flags": NODE_FLAGS,
            "bundle": BUNDLE_FROM_TYPESCRIPT}


def snapshot_blob(node: str, worker: Path, folder: Optional[Path] = None) -> Optional[Path]:
    """The snapshot to start `worker` from, or None when there is none made from exactly these inputs."""
    folder = folder or SNAPSHOT_DIR
    blob = folder / "worker.blob"
    try:
        recorded = json.loads((folder / "stamp.json").read_text())
        return blob if blob.is_file() and recorded == _stamp(node, worker) else None
    except (OSError, ValueError):
        return None


def worker_command(node: str, worker: Path, folder: Optional[Path] = None, snapshot: bool = True) -> List[str]:
    """How to start `worker`: from its snapshot when there is a current one (and `snapshot`), else plainly."""
    blob = snapshot_blob(node, worker, folder) if snapshot else None
    if blob is not None:
        return [node, *NODE_FLAGS, "--snapshot-blob", str(blob)]
    return [node, *NODE_FLAGS, str(worker)]


def make_snapshot(node: str, worker: Path, folder: Optional[Path] = None) -> Path:
    """Bundle the worker and snapshot it into `folder`; the stamp is written last, so a failure leaves none."""
    folder = folder or SNAPSHOT_DIR
    if not ESBUILD.exists():
        raise RuntimeError(f"{ESBUILD} is missing: run `npm ci` (or `make setup`)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stamp.json").unlink(missing_ok=True)
    bundle, blob = folder / "worker.bundle.js", folder / "worker.blob"
    # Snapshots cannot `require` files at build time, so MathJax goes into one bundle with the worker.
    steps = [[str(ESBUILD), str(worker), "--bundle", "--platform=node", *BUNDLE_FROM_TYPESCRIPT,
              "--log-level=warning", f"--outfile={bundle}"],
             [node, *NODE_FLAGS, "--snapshot-blob", str(blob), "--build-snapshot", str(bundle)]]
    for step in steps:
        done = subprocess.run(step, cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              env=worker_environment())
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(step)} failed ({done.returncode}): {(done.stderr or done.stdout)[-1500:]}")
    (folder / "stamp.json").write_text(json.dumps(_stamp(node, worker), sort_keys=True) + "\n")
    return blob


def main() -> int:
    from .typeset_math import WORKER

    node = shutil.which("node")
    if node is None:
        print("mathjax_snapshot: node is not on PATH", file=sys.stderr)
        return 1
    if snapshot_blob(node, WORKER) is not None:
        print(f"MathJax worker snapshot is up to date ({os.path.relpath(SNAPSHOT_DIR)})")
        return 0
    try:
        blob = make_snapshot(node, WORKER)
    except RuntimeError as error:
        print(f"mathjax_snapshot: {error}", file=sys.stderr)
        return 1
    print(f"made the MathJax worker snapshot {os.path.relpath(blob)} ({blob.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
