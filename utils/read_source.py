"""Find the source files of a package and read them as text. Nothing is imported or executed.

Pages come from `*.py` and `*.md` files; every other file is an asset that prose may link to (images are
copied beside the page that references them). The walk is sorted so that builds are deterministic.
"""
import codecs
import io
import os
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

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


# PEP 263: a coding cookie on line 1, or on line 2 below a blank or comment-only line (as `tokenize` reads it).
CODING_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)
BLANK_OR_COMMENT = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)", re.ASCII)
UTF8_BOM = codecs.BOM_UTF8
ASCII_PROBE = b"# coding: probe\n"   # a cookie can only be read in an encoding that reads ASCII as ASCII


def _coding_cookie(data: bytes) -> Optional[Tuple[int, str]]:
    """(line, encoding name as written) of the file's coding cookie, or None."""
    lines = data[len(UTF8_BOM):].split(b"\n", 2) if data.startswith(UTF8_BOM) else data.split(b"\n", 2)
    for number, line in enumerate(lines[:2], start=1):
        found = CODING_COOKIE.match(line)
        if found:
            return number, found.group(1).decode("ascii")
        if not BLANK_OR_COMMENT.match(line):
            return None
    return None


def _encoding_problem(data: bytes, encoding: str) -> Optional[str]:
    """Why Python would refuse the declared `encoding` for this file, or None."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return f"unknown encoding {encoding!r} in the coding cookie (PEP 263)"
    if data.startswith(UTF8_BOM) and name not in ("utf-8", "utf-8-sig"):
        return f"the coding cookie declares {encoding!r} but the file starts with a UTF-8 byte order mark"
    try:
        readable = ASCII_PROBE.decode(encoding) == ASCII_PROBE.decode("ascii")
    except LookupError:
        return f"{encoding!r} in the coding cookie is not a text encoding"
    except UnicodeError:
        readable = False
    if not readable:
        return f"{encoding!r} in the coding cookie cannot be used for Python source (it does not keep ASCII as is)"
    return None


def _decode_python(data: bytes, display: str):
    """Decode like the Python tokenizer: a UTF-8 BOM and/or a PEP 263 coding cookie, else UTF-8."""
    cookie = _coding_cookie(data)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        # detect_encoding refused the cookie (unknown, or contradicting a BOM: reported below at the
        # cookie's line), or the first lines are not UTF-8. Python itself reads the cookie line as bytes,
        # so a valid cookie on a line that is not UTF-8 (say `# café, coding: latin-1`) still holds.
        encoding = cookie[1] if cookie else "utf-8-sig"
    if cookie:
        problem = _encoding_problem(data, encoding)
        if problem:
            return None, SourceError(display, cookie[0], problem)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = error.object.count(b"\n", 0, error.start) + 1
        byte = error.object[error.start]
        if cookie is None:
            return None, SourceError(display, line, f"not valid UTF-8 (byte 0x{byte:02x}); save the file as UTF-8")
        return None, SourceError(display, line, f"not valid {cookie[1]} (byte 0x{byte:02x}), the encoding "
                                                f"declared on line {cookie[0]}")
    except UnicodeError as error:  # a codec that fails without saying where
        return None, SourceError(display, cookie[0] if cookie else 1, f"cannot decode as {encoding}: {error}")
    return text, None


def _decode_markdown(data: bytes, display: str):
    """Markdown is UTF-8; a BOM is allowed."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = error.object.count(b"\n", 0, error.start) + 1
        return None, SourceError(display, line, f"not valid UTF-8 (byte 0x{error.object[error.start]:02x}); "
                                                f"save the file as UTF-8")


def decode_source(data: bytes, display: str, kind: str):
    """(text with '\n' line ends, None), or (None, SourceError at the line that cannot be decoded).

    `kind` is "python" (decoded as Python decodes it: BOM, PEP 263 coding cookie, else UTF-8) or
    "markdown" (UTF-8, BOM allowed).
    """
    text, error = (_decode_markdown if kind == "markdown" else _decode_python)(data, display)
    if text is None:
        return None, error
    return text.replace("\r\n", "\n").replace("\r", "\n"), None


def read_source_file(root: Path, rel: str, display_root: str) -> SourceFile:
    display = f"{display_root}/{rel}" if display_root else rel
    kind = "markdown" if rel.endswith(".md") else "python"
    try:
        data = (root / rel).read_bytes()
    except OSError as error:  # e.g. removed while the build runs
        return SourceFile(rel=rel, display=display, kind=kind, data=b"", text=None,
                          error=SourceError(display, 1, f"cannot read: {error.strerror}"))
    text, error = decode_source(data, display, kind)
    return SourceFile(rel=rel, display=display, kind=kind, data=data, text=text, error=error)


def read_sources(root: Path, display_root: str) -> List[SourceFile]:
    pages, _ = list_source_tree(root)
    return [read_source_file(root, rel, display_root) for rel in pages]
