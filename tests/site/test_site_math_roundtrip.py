"""Every TeX expression written in our sources reaches the typesetter unchanged, and every page shows it.

The expressions are found here independently of the generator (a plain scan of the docstrings and comment
runs of every module in labml_nn/), then compared with what the build sends to MathJax.
"""
import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from site_core_helpers import PLACEHOLDER_PAGE
from utils.build import build_site

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = REPO_ROOT / "labml_nn"

DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
ALIGN = re.compile(r"\\begin\{(align\*?|equation\*?|gather\*?)\}.*?\\end\{\1\}", re.DOTALL)
INLINE = re.compile(r"(?<![\\$])\$(?=[^\s$])([^$\n]+?)(?<=\S)\$(?![\d$])")
QUOTES = re.compile(r'^[rRuU]?("""|\'\'\'|"|\')(.*)\1$', re.DOTALL)


def prose_blocks(path: Path):
    """Raw text of the docstrings and of each run of full-line comments ('# ' removed)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        return [text]
    blocks = []
    tree = ast.parse(text)
    for node in [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef,
                                                                        ast.AsyncFunctionDef))]:
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            segment = ast.get_source_segment(text, body[0].value)
            blocks.append(QUOTES.match(segment).group(2))
    run, last_row = [], None
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT and not token.line[:token.start[1]].strip():
            if last_row is not None and token.start[0] != last_row + 1:
                blocks.append("\n".join(run))
                run = []
            body = token.string[1:]
            run.append(body[1:] if body.startswith(" ") else body)
            last_row = token.start[0]
    if run:
        blocks.append("\n".join(run))
    return blocks


def expressions_in(block: str):
    found = []
    for pattern in (DISPLAY, ALIGN):
        for match in pattern.finditer(block):
            found.append(match.group(1) if pattern is DISPLAY else match.group(0))
        block = pattern.sub(" ", block)
    found += [m.group(1) for m in INLINE.finditer(block)]
    return found


def squash(tex: str) -> str:
    return " ".join(tex.split())


class RecordingTypesetter:
    """Stands in for MathJax: records every request and answers with a numbered marker."""

    def __init__(self):
        self.requests = []
        self.typeset_count = 0

    def start_if_cache_empty(self):
        pass

    def submit(self, requests):
        pass

    def typeset(self, requests):
        requests = list(requests)
        self.requests += requests
        return {r: (True, f'<mjx-container class="MathJax" jax="CHTML" data-eq="{i}"></mjx-container>')
                for i, r in enumerate(sorted(set(requests)))}

    def request_stylesheet(self):
        pass

    def stylesheet(self):
        return "mjx-container {}"


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::SyntaxWarning")
def test_every_tex_expression_in_our_sources_reaches_the_typesetter_unchanged(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text(PLACEHOLDER_PAGE)
    recorder = RecordingTypesetter()
    result = build_site(SOURCE, tmp_path / "docs", templates=templates, cache_dir=tmp_path / "cache",
                        typesetter=recorder)
    assert result.ok, result.errors

    sent = {tex for tex, _ in recorder.requests}
    sent_squashed = {squash(tex) for tex in sent}
    expected = []
    for path in sorted(SOURCE.rglob("*")):
        if path.suffix in (".py", ".md") and "__pycache__" not in path.parts:
            for block in prose_blocks(path):
                expected += [(path.relative_to(REPO_ROOT).as_posix(), tex) for tex in expressions_in(block)]
    assert len(expected) > 50, "our sources should hold plenty of math"
    missing = [(where, tex) for where, tex in expected if squash(tex) not in sent_squashed]
    assert missing == []
    # Single-line expressions arrive byte-for-byte (multi-line ones only lose docstring indentation).
    changed = [(where, tex) for where, tex in expected if "\n" not in tex and tex not in sent]
    assert changed == []
    assert len(sent_squashed) == len({squash(tex) for _, tex in expected})

    # Every equation of every page is on that page exactly where it was: count the markers.
    pages = sorted((tmp_path / "docs").rglob("*.html"))
    shown = sum(page.read_text().count('jax="CHTML" data-eq=') for page in pages)
    assert shown == len(recorder.requests)
