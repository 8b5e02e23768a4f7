"""Find the source files of a package and read them as text. Nothing is imported or executed.

Pages come from `*.py` and `*.md` files; every other file is an asset that prose may link to (images are
copied beside the page that references them). The walk is sorted so that builds are deterministic.
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from .errors import SourceError

PAGE_SUFFIXES = (".py", ".md")
SKIPPED_DIRS = {"__pycache__", "node_modules"}


@dataclass
class SourceFile:
    rel: str                 # path inside the source root, '/'-separated, e.g. "optimizers/adam.py"
    display: str             # path shown in messages and "view source", e.g. "labml_nn/optimizers/adam.py"
    kind: str                # "python" or "markdown"
    data: bytes              # raw bytes (the cache key)
    text: Optional[str]      # decoded text with '\n' line ends; None when it could not be decoded
    error: Optional[SourceError] = None


def page_url(rel: str) -> str:
    """The page a source file becomes: `x/__init__.py` -> `x/index.html`, `x/a.py` -> `x/a.html`."""
    folder, _, name = rel.rpartition("/")
    stem = "index" if name == "__init__.py" else name.rsplit(".", 1)[0]
    return (folder + "/" if folder else "") + stem + ".html"


def list_source_tree(root: Path):
    """(page files, asset files) as sorted '/'-separated paths relative to `root`."""
    pages, assets = [], []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        base = Path(folder).relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        for name in sorted(files):
            if name.startswith(".") or name.endswith((".pyc", ".pyo")):
                continue
            (pages if name.endswith(PAGE_SUFFIXES) else assets).append(prefix + name)
    return sorted(pages), sorted(assets)


def decode_source(data: bytes, display: str):
    """Text with '\n' line ends, or a SourceError at the line of the first byte that is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return None, SourceError(display, line, f"not valid UTF-8 (byte 0x{data[error.start]:02x}); "
                                                f"save the file as UTF-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n"), None


def read_source_file(root: Path, rel: str, display_root: str) -> SourceFile:
    display = f"{display_root}/{rel}" if display_root else rel
    kind = "markdown" if rel.endswith(".md") else "python"
    try:
        data = (root / rel).read_bytes()
    except OSError as error:  # e.g. removed while the build runs
        return SourceFile(rel=rel, display=display, kind=kind, data=b"", text=None,
                          error=SourceError(display, 1, f"cannot read: {error.strerror}"))
    text, error = decode_source(data, display)
    return SourceFile(rel=rel, display=display, kind=kind, data=data, text=text, error=error)


def read_sources(root: Path, display_root: str) -> List[SourceFile]:
    pages, _ = list_source_tree(root)
    return [read_source_file(root, rel, display_root) for rel in pages]
