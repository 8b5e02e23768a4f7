"""TeX -> MathJax CommonHTML (with assistive MathML) at build time, in ONE long-lived Node worker.

The worker (utils/mathjax_worker.js) is started where `utils.mathjax_install` finds MathJax, as its esbuild
bundle when a current one exists. Its output draws characters with MathJax's web fonts: `stylesheet()` is the
CSS (served at static/mathjax.css, naming its fonts as mathjax-fonts/<file>.woff) and
`mathjax_install.mathjax_font_files()` says which font files to copy beside it.

Equations are streamed to the worker as pages are prepared (`submit`), so MathJax works while Python
prepares the next page, and collected when they are needed (`typeset`, which waits only for the ones it
asks for); answers are cached on disk (SQLite in the cache folder) keyed by the TeX, the mode
(inline/display) and the versions of MathJax and of the worker, so a rebuild only typesets equations it
has never seen.
"""
import hashlib
import json
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from .build_cache import MATH_CACHE_FILE, open_cache_db
from .mathjax_install import mathjax_version, missing_mathjax_message, worker_command, worker_environment

WORKER = Path(__file__).with_name("mathjax_worker.js")
REPO_ROOT = Path(__file__).resolve().parent.parent

Request = Tuple[str, bool]          # (tex, display)


class MathJaxUnavailable(RuntimeError):
    pass


def _mathjax_version() -> str:
    version = mathjax_version()
    if version is None:
        raise MathJaxUnavailable(missing_mathjax_message())
    return version


class MathTypesetter:
    """Typesets batches of TeX; keeps the worker process and the cache open until `close()`."""

    def __init__(self, cache_dir: Path):
        self.cache_dir = Path(cache_dir)
        self._db = None                            # sqlite3 connection, opened on first use
        self._worker: Optional[subprocess.Popen] = None
        self._salt = None
        self.typeset_count = 0        # equations actually sent to MathJax (not from the cache)
        self._in_flight: Dict[Request, int] = {}   # sent to the worker, answer not yet collected
        self._last_id = 0
        self._stylesheet_id: Optional[int] = None  # stylesheet asked for, answer not yet collected

    # -- cache -------------------------------------------------------------------------------------------
    def _salt_text(self) -> str:
        if self._salt is None:
            worker_hash = hashlib.sha256(WORKER.read_bytes()).hexdigest()[:16]
            self._salt = f"mathjax {_mathjax_version()} worker {worker_hash}"
        return self._salt

    def _key(self, tex: str, display: bool) -> str:
        mode = "display" if display else "inline"
        return hashlib.sha256(f"{self._salt_text()}\n{mode}\n{tex}".encode("utf-8")).hexdigest()

    def _cache(self):
        if self._db is None:
            self._db = open_cache_db(self.cache_dir / MATH_CACHE_FILE,
                                     "CREATE TABLE IF NOT EXISTS math (key TEXT PRIMARY KEY, html TEXT NOT NULL)")
        return self._db

    # -- worker ------------------------------------------------------------------------------------------
    def _start_worker(self) -> subprocess.Popen:
        if self._worker is None or self._worker.poll() is not None:
            node = shutil.which("node")
            if node is None:
                raise MathJaxUnavailable("node is not on PATH: install Node.js (20+) to typeset math")
            _mathjax_version()
            command = worker_command(node, WORKER)
            # stderr goes to a file, not a pipe: nothing reads it until the worker fails, and a full pipe
            # would stall the worker.
            self._stderr = tempfile.TemporaryFile()
            self._worker = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=self._stderr, cwd=str(REPO_ROOT), env=worker_environment())
            self._answers: Dict[int, dict] = {}
            self._answered = threading.Condition()
            # A reader thread drains stdout as answers come, so the worker never blocks on a full pipe and
            # requests can be written while Python goes on preparing the next page.
            self._reader = threading.Thread(target=self._read_answers, daemon=True,
                                            args=(self._worker, self._answers, self._answered))
            self._reader.start()
            # A writer thread feeds stdin: the pipe holds 64 KB, so writing a page's requests on this thread
            # would block it until Node had typeset nearly all of them (the 6,000-equation file spent 12 s
            # of its 20 s in that write).
            self._requests: "queue.SimpleQueue[Optional[bytes]]" = queue.SimpleQueue()
            self._writer = threading.Thread(target=self._write_requests, daemon=True,
                                            args=(self._worker, self._requests))
            self._writer.start()
        return self._worker

    @staticmethod
    def _write_requests(worker: subprocess.Popen, requests) -> None:
        while True:
            data = requests.get()
            if data is None:
                return
            try:
                worker.stdin.write(data)
                worker.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                return  # the worker is gone: `_wait` reports it, with its stderr

    def start_if_cache_empty(self) -> None:
        """With nothing cached, every equation will need MathJax: start the worker now (it takes a moment
        to load) so it is ready for the first `submit`. With a cache, wait until an equation misses it."""
        if (self.cache_dir / MATH_CACHE_FILE).exists() and self._cache().execute(
                "SELECT 1 FROM math LIMIT 1").fetchone():
            return
        try:
            self._start_worker()
        except MathJaxUnavailable:
            pass  # reported when equations are collected

    @staticmethod
    def _read_answers(worker: subprocess.Popen, answers: Dict[int, dict], answered: threading.Condition) -> None:
        for line in worker.stdout:
            try:
                answer = json.loads(line)
            except ValueError:
                break   # a line cut short: the worker was stopped while it wrote (close() kills it)
            with answered:
                answers[answer["id"]] = answer
                answered.notify_all()
        with answered:
            answers[-1] = {"stopped": True}  # this worker is gone
            answered.notify_all()

    def _send(self, requests: List[dict]) -> None:
        self._start_worker()
        self._requests.put("".join(json.dumps(r) + "\n" for r in requests).encode("utf-8"))

    def _wait(self, ids: List[int]) -> Dict[int, dict]:
        answered = self._answered
        with answered:
            while not all(i in self._answers for i in ids) and -1 not in self._answers:
                answered.wait()
            if all(i in self._answers for i in ids):
                return {i: self._answers.pop(i) for i in ids}
        # The worker is gone: what it had in flight is lost.
        self._worker.wait()
        self._stderr.seek(0)
        error = self._stderr.read().decode("utf-8", "replace").strip()
        self._stderr.close()
        self._worker = None
        self._in_flight.clear()
        self._stylesheet_id = None
        raise MathJaxUnavailable("the MathJax worker stopped: " + (error[:1500] or "no output"))

    def _next_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def _stylesheet_key(self) -> str:
        return hashlib.sha256(f"{self._salt_text()}\nstylesheet".encode()).hexdigest()

    def _ask_for_stylesheet(self) -> None:
        self._stylesheet_id = self._next_id()
        self._send([{"id": self._stylesheet_id, "stylesheet": True}])

    def request_stylesheet(self) -> None:
        """Ask the running worker for the stylesheet now, unless it is cached; `stylesheet` collects it."""
        if self._worker is None or self._stylesheet_id is not None:
            return
        if not self._cache().execute("SELECT 1 FROM math WHERE key = ?", (self._stylesheet_key(),)).fetchone():
            self._ask_for_stylesheet()

    def stylesheet(self) -> str:
        """The CSS the typeset math needs (from the cache, or from the worker)."""
        key = self._stylesheet_key()
        row = self._cache().execute("SELECT html FROM math WHERE key = ?", (key,)).fetchone()
        if row:
            return row[0]
        if self._stylesheet_id is None:
            self._ask_for_stylesheet()
        request_id, self._stylesheet_id = self._stylesheet_id, None
        css = self._wait([request_id])[request_id]["css"]
        with self._cache() as db:
            db.execute("INSERT OR REPLACE INTO math VALUES (?, ?)", (key, css))
        return css

    def _lookup(self, requests: List[Request]) -> Dict[Request, str]:
        keys = {request: self._key(*request) for request in requests}
        key_list = sorted(set(keys.values()))
        found = {}
        for i in range(0, len(key_list), 500):
            chunk = key_list[i:i + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self._cache().execute(f"SELECT key, html FROM math WHERE key IN ({marks})", chunk))
        return {request: found[key] for request, key in keys.items() if key in found}

    def submit(self, requests: Iterable[Request]) -> None:
        """Start typesetting these equations now (those not cached and not already sent); returns at once."""
        if self._worker is not None and self._worker.poll() is not None:
            self._in_flight.clear()  # the worker died: what it had in flight is lost, send it again
            self._stylesheet_id = None
        fresh = sorted(set(requests) - self._in_flight.keys())
        if not fresh:
            return
        cached = self._lookup(fresh)
        batch = []
        for request in fresh:
            if request in cached:
                continue
            request_id = self._next_id()
            self._in_flight[request] = request_id
            batch.append({"id": request_id, "tex": request[0], "display": request[1]})
        if batch:
            self._send(batch)

    def typeset(self, requests: Iterable[Request]) -> Dict[Request, Tuple[bool, str]]:
        """{(tex, display): (True, html) or (False, MathJax's error message)} for every distinct request."""
        unique = sorted(set(requests))
        self.submit(unique)
        results: Dict[Request, Tuple[bool, str]] = {}
        waiting = {r: self._in_flight[r] for r in unique if r in self._in_flight}
        answers = self._wait(sorted(waiting.values())) if waiting else {}
        fresh = []
        for request, request_id in sorted(waiting.items()):
            del self._in_flight[request]
            answer = answers[request_id]
            self.typeset_count += 1
            if "html" in answer:
                results[request] = (True, answer["html"])
                fresh.append((self._key(*request), answer["html"]))
            else:
                results[request] = (False, answer.get("error", "unknown MathJax error"))
        if fresh:
            with self._cache() as db:
                db.executemany("INSERT OR REPLACE INTO math VALUES (?, ?)", fresh)
        cached = self._lookup([r for r in unique if r not in results])
        for request in unique:
            if request not in results:
                results[request] = (True, cached[request])
        return results

    def close(self) -> None:
        if self._worker is not None:
            self._requests.put(None)
            # No answer is wanted after close: stop Node rather than wait while it tears its heap down. A
            # write in progress then fails at once, so the writer is done before stdin is closed.
            self._worker.kill()
            self._worker.wait()
            self._writer.join(timeout=5)
            self._reader.join(timeout=5)
            try:
                self._worker.stdin.close()
            except OSError:
                pass
            self._worker.stdout.close()
            self._stderr.close()
            self._worker = None
        if self._db is not None:
            self._db.close()
            self._db = None
