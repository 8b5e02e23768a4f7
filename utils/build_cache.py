"""What a rebuild may skip: a fingerprint of every input, the output files as last written, and the
rendered pages of unchanged sources.

Kept in the cache folder (`.docs-cache/`, git-ignored), never in the output, so the output stays
deterministic. Only the standard library is imported here: the no-change check runs before anything heavy.
"""
import hashlib
import json
import os
from pathlib import Path
from typing import Iterable, List, Optional

UTILS = Path(__file__).resolve().parent
REPO_ROOT = UTILS.parent
MATH_CACHE_FILE = "math.sqlite"    # in the cache folder: typeset equations (utils/typeset_math.py)
PAGES_CACHE_FILE = "pages.sqlite"  # in the cache folder: prepared pages (BuildCache)


def generator_files() -> List[Path]:
    """The files whose change must rebuild every page: the generator's code and the MathJax pin."""
    files = sorted(p for p in UTILS.iterdir() if p.suffix in (".py", ".js"))
    files += [REPO_ROOT / "package-lock.json", REPO_ROOT / "node_modules" / "mathjax-full" / "package.json"]
    return [p for p in files if p.exists()]


def tree_files(root: Path) -> List[Path]:
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        found += [Path(folder) / n for n in sorted(names) if not n.startswith(".") and not n.endswith((".pyc", ".pyo"))]
    return found


def stat_fingerprint(paths: Iterable[Path], extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        try:
            stat = os.stat(path)
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        except FileNotFoundError:  # a missing config, or a file removed mid-walk: the build reports it
            digest.update(f"{path}\0missing\n".encode())
    return digest.hexdigest()


def content_hash(paths: Iterable[Path], root: Optional[Path] = None) -> str:
    digest = hashlib.sha256()
    for path in paths:
        name = path.relative_to(root).as_posix() if root else path.name
        data = path.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


SQLITE_CORRUPT, SQLITE_NOTADB = 11, 26  # SQLite's result codes for a damaged file


def open_cache_db(path: Path, schema: str):
    """An SQLite cache file, created with `schema` if new.

    A cache need not survive a power cut, so commits are not synced to disk (a synced commit costs
    milliseconds on the build's path). Should a crash ever leave the file unreadable, it is started afresh:
    a lost cache only costs a slower build.
    """
    import sqlite3

    path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(2):
        db = sqlite3.connect(str(path), timeout=30)
        try:
            db.execute("PRAGMA synchronous=OFF")
            db.execute(schema)
            return db
        except sqlite3.DatabaseError as error:
            db.close()
            if attempt or getattr(error, "sqlite_errorcode", None) not in (SQLITE_CORRUPT, SQLITE_NOTADB):
                raise  # e.g. locked by another build: never delete that
            for stale in (path, path.with_name(path.name + "-journal")):
                stale.unlink(missing_ok=True)


class BuildCache:
    def __init__(self, cache_dir: Path):
        self.dir = Path(cache_dir)
        self._db = None

    # -- manifest of the last successful build into one output folder -----------------------------------
    def _manifest_path(self, out: Path) -> Path:
        key = hashlib.sha256(str(Path(out).resolve()).encode()).hexdigest()[:16]
        return self.dir / f"manifest-{key}.json"

    def load_manifest(self, out: Path) -> dict:
        try:
            return json.loads(self._manifest_path(out).read_text())
        except (OSError, ValueError):
            return {}

    def save_manifest(self, out: Path, manifest: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self._manifest_path(out)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(manifest, separators=(",", ":")))
        os.replace(tmp, path)

    # -- rendered pages, keyed by source bytes + generator version ---------------------------------------
    def _pages(self):
        if self._db is None:
            self._db = open_cache_db(self.dir / PAGES_CACHE_FILE,
                                     "CREATE TABLE IF NOT EXISTS pages (key TEXT PRIMARY KEY, data TEXT NOT NULL)")
        return self._db

    def get_page(self, key: str) -> Optional[dict]:
        row = self._pages().execute("SELECT data FROM pages WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put_page(self, key: str, page: dict) -> None:
        """Keep a prepared page (committed by `close`, with the others of the build)."""
        self._pages().execute("INSERT OR REPLACE INTO pages VALUES (?, ?)", (key, json.dumps(page)))

    def close(self) -> None:
        if self._db is not None:
            self._db.commit()
            self._db.close()
            self._db = None
