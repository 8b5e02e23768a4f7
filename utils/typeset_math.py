"""TeX -> SVG (with assistive MathML) at build time, in ONE long-lived Node worker running MathJax.

All equations of a build are sent to the worker in one batch; answers are cached on disk (SQLite in the
cache folder) keyed by the TeX, the mode (inline/display) and the versions of MathJax and of the worker,
so a rebuild only typesets equations it has never seen.
"""
import hashlib
import json
import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

WORKER = Path(__file__).with_name("mathjax_worker.js")
REPO_ROOT = Path(__file__).resolve().parent.parent

Request = Tuple[str, bool]          # (tex, display)


class MathJaxUnavailable(RuntimeError):
    pass


def _mathjax_version() -> str:
    package = REPO_ROOT / "node_modules" / "mathjax-full" / "package.json"
    try:
        return json.loads(package.read_text())["version"]
    except (OSError, ValueError, KeyError):
        raise MathJaxUnavailable(f"MathJax is not installed ({package} missing): run `npm ci` "
                                 f"(or `make setup`)") from None


class MathTypesetter:
    """Typesets batches of TeX; keeps the worker process and the cache open until `close()`."""

    def __init__(self, cache_dir: Path):
        self.cache_dir = Path(cache_dir)
        self._db: Optional[sqlite3.Connection] = None
        self._worker: Optional[subprocess.Popen] = None
        self._salt = None
        self.typeset_count = 0        # equations actually sent to MathJax (not from the cache)

    # -- cache -------------------------------------------------------------------------------------------
    def _salt_text(self) -> str:
        if self._salt is None:
            worker_hash = hashlib.sha256(WORKER.read_bytes()).hexdigest()[:16]
            self._salt = f"mathjax {_mathjax_version()} worker {worker_hash}"
        return self._salt

    def _key(self, tex: str, display: bool) -> str:
        mode = "display" if display else "inline"
        return hashlib.sha256(f"{self._salt_text()}\n{mode}\n{tex}".encode("utf-8")).hexdigest()

    def _cache(self) -> sqlite3.Connection:
        if self._db is None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.cache_dir / "math.sqlite"), timeout=30)
            self._db.execute("CREATE TABLE IF NOT EXISTS math (key TEXT PRIMARY KEY, html TEXT NOT NULL)")
        return self._db

    # -- worker ------------------------------------------------------------------------------------------
    def _start_worker(self) -> subprocess.Popen:
        if self._worker is None or self._worker.poll() is not None:
            node = shutil.which("node")
            if node is None:
                raise MathJaxUnavailable("node is not on PATH: install Node.js (20+) to typeset math")
            _mathjax_version()
            self._worker = subprocess.Popen([node, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, cwd=str(REPO_ROOT))
        return self._worker

    def _ask_worker(self, requests: List[dict]) -> Dict[int, dict]:
        worker = self._start_worker()
        payload = "".join(json.dumps(r) + "\n" for r in requests).encode("utf-8")

        def feed():  # write from a thread so a full stdout pipe cannot deadlock us
            try:
                worker.stdin.write(payload)
                worker.stdin.flush()
            except BrokenPipeError:
                pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        answers: Dict[int, dict] = {}
        while len(answers) < len(requests):
            line = worker.stdout.readline()
            if not line:
                writer.join(timeout=1)
                error = worker.stderr.read().decode("utf-8", "replace") if worker.poll() is not None else ""
                self._worker = None
                raise MathJaxUnavailable("the MathJax worker stopped: " + (error.strip()[-2000:] or "no output"))
            answer = json.loads(line)
            answers[answer["id"]] = answer
        writer.join()
        return answers

    def stylesheet(self) -> str:
        key = hashlib.sha256(f"{self._salt_text()}\nstylesheet".encode()).hexdigest()
        row = self._cache().execute("SELECT html FROM math WHERE key = ?", (key,)).fetchone()
        if row:
            return row[0]
        css = self._ask_worker([{"id": 1, "stylesheet": True}])[1]["css"]
        with self._cache() as db:
            db.execute("INSERT OR REPLACE INTO math VALUES (?, ?)", (key, css))
        return css

    def typeset(self, requests: Iterable[Request]) -> Dict[Request, Tuple[bool, str]]:
        """{(tex, display): (True, html) or (False, MathJax's error message)} for every distinct request."""
        unique = sorted(set(requests))
        results: Dict[Request, Tuple[bool, str]] = {}
        keys = {request: self._key(*request) for request in unique}
        db = self._cache()
        missing = []
        key_list = list(keys.values())
        found = {}
        for i in range(0, len(key_list), 500):
            chunk = key_list[i:i + 500]
            marks = ",".join("?" * len(chunk))
            found.update(db.execute(f"SELECT key, html FROM math WHERE key IN ({marks})", chunk).fetchall())
        for request in unique:
            html = found.get(keys[request])
            if html is None:
                missing.append(request)
            else:
                results[request] = (True, html)
        if missing:
            answers = self._ask_worker([{"id": i, "tex": tex, "display": display}
                                        for i, (tex, display) in enumerate(missing)])
            self.typeset_count += len(missing)
            fresh = []
            for i, request in enumerate(missing):
                answer = answers[i]
                if "html" in answer:
                    results[request] = (True, answer["html"])
                    fresh.append((keys[request], answer["html"]))
                else:
                    results[request] = (False, answer.get("error", "unknown MathJax error"))
            with db:
                db.executemany("INSERT OR REPLACE INTO math VALUES (?, ?)", fresh)
        return results

    def close(self) -> None:
        if self._worker is not None:
            try:
                self._worker.stdin.close()
                self._worker.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self._worker.kill()
            for stream in (self._worker.stdout, self._worker.stderr):
                stream.close()
            self._worker = None
        if self._db is not None:
            self._db.close()
            self._db = None
