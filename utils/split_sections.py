"""Cut a source file into sections: the notes (prose) and the code they explain.

Works on the raw text with `ast` positions only: the module is never imported or run, and
docstrings are never evaluated as Python strings, so `\\frac` reaches the page byte-for-byte.

Rules:
- the module docstring is the first section; optional YAML front matter (between `---` lines) gives the
  title, the summary and the reading order (`order:` of an index page, `in_reading_order: false` for a
  tooling page) and is not shown;
- a class/def docstring is the notes beside its `class`/`def` line (decorators and a multi-line signature
  included); the docstring's own lines leave the code column;
- a run of full-line `#` comments is the notes for the code after it; a bare `#` is a paragraph break;
  a comment at the end of a code line stays in the code;
- code keeps its original line numbers; sections with neither notes nor code are dropped.
"""
import ast
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .errors import SourceError

STRING_LITERAL = re.compile(r'^([rRuUbB]{0,2})("""|\'\'\'|"|\')(.*)\2$', re.DOTALL)
CODING_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=]")


@dataclass
class Section:
    notes: str = ""                                   # Markdown source of the notes
    notes_kind: str = "comment"                       # "docstring", "comment" or "markdown"
    notes_lines: List[int] = field(default_factory=list)   # source line of each line of `notes`
    code: List[Tuple[int, str]] = field(default_factory=list)  # (original line number, text)
    escaped_docstring: bool = False   # a docstring without the r prefix: Python reads `\\eta` as `\eta`


@dataclass
class FrontMatter:
    title: Optional[str] = None        # None when there is none
    summary: str = ""
    order: List[str] = field(default_factory=list)   # an index page's reading order of its folder (file names)
    in_reading_order: bool = True      # False: a tooling page, kept out of previous/next


@dataclass
class SplitSource:
    front: FrontMatter
    sections: List[Section]

    @property
    def title(self) -> Optional[str]:
        return self.front.title

    @property
    def summary(self) -> str:
        return self.front.summary


@dataclass
class _Docstring:
    start: int                # first line of the string literal
    end: int                  # last line
    owner_start: int          # first line of the class/def (its first decorator), 0 for the module
    lines: List[str]          # dedented text lines
    line_numbers: List[int]
    raw: bool                 # written with the r prefix


def _byte_col_to_str(line: str, col: int) -> int:
    """ast column offsets count UTF-8 bytes; turn one into a str index."""
    return len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


def _dedent(raw_lines: List[str], first_line: int) -> Tuple[List[str], List[int]]:
    """Dedent docstring lines like inspect.cleandoc, but keep every line's source line number."""
    lines = list(raw_lines)
    numbers = list(range(first_line, first_line + len(lines)))
    lines[0] = lines[0].lstrip()
    indents = [len(l) - len(l.lstrip()) for l in lines[1:] if l.strip()]
    cut = min(indents) if indents else 0
    lines = [lines[0]] + [l[cut:] if l.strip() else "" for l in lines[1:]]
    lines = [l.rstrip() for l in lines]
    while lines and not lines[0]:
        lines.pop(0), numbers.pop(0)
    while lines and not lines[-1]:
        lines.pop(), numbers.pop()
    return lines, numbers


def _find_docstrings(tree: ast.Module, nodes: List[ast.AST], source_lines: List[str]) -> Dict[int, _Docstring]:
    """Docstrings that sit on lines of their own, keyed by the line they start on."""
    found = {}
    owners = [tree] + [n for n in nodes if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    for owner in owners:
        body = getattr(owner, "body", None)
        if not body or not isinstance(body[0], ast.Expr):
            continue
        value = body[0].value
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            continue
        start, end = value.lineno, value.end_lineno
        first, last = source_lines[start - 1], source_lines[end - 1]
        col = _byte_col_to_str(first, value.col_offset)
        end_col = _byte_col_to_str(last, value.end_col_offset)
        after = last[end_col:].strip()
        if first[:col].strip() or (after and not after.startswith("#")):
            continue  # shares its line with code: leave it in the code column
        if start == end:
            raw = first[col:end_col]
        else:
            raw = "\n".join([first[col:]] + source_lines[start:end - 1] + [last[:end_col]])
        literal = STRING_LITERAL.match(raw)
        if not literal or "b" in literal.group(1).lower():
            continue  # implicit concatenation or bytes: not a plain docstring
        inner = literal.group(3)
        lines, numbers = _dedent(inner.split("\n"), start)
        if isinstance(owner, ast.Module):
            owner_start = 0
        else:
            owner_start = min([owner.lineno] + [d.lineno for d in owner.decorator_list])
        found[start] = _Docstring(start, end, owner_start, lines, numbers, "r" in literal.group(1).lower())
    return found


def _full_line_comments(source_lines: List[str], nodes: List[ast.AST]) -> Dict[int, str]:
    """Line number -> comment text (without '#' and one space) for lines holding only a comment.

    A line starting with '#' is a comment unless it lies inside a multi-line string (positions from `ast`).
    """
    inside_strings = set()
    for node in nodes:
        if isinstance(node, (ast.Constant, ast.JoinedStr)) and (node.end_lineno or 0) > node.lineno:
            if isinstance(node, ast.JoinedStr) or isinstance(node.value, (str, bytes)):
                inside_strings.update(range(node.lineno + 1, node.end_lineno + 1))
    comments = {}
    for number, line in enumerate(source_lines, start=1):
        stripped = line.lstrip()
        if stripped.startswith("#") and number not in inside_strings:
            body = stripped[1:].rstrip()
            comments[number] = body[1:] if body.startswith(" ") else body
    return comments


def parse_front_matter(lines: List[str], numbers: List[int], display: str):
    """Split YAML front matter (between `---` lines at the top) from the notes: (FrontMatter, rest, numbers)."""
    if not lines or lines[0].strip() != "---":
        return FrontMatter(), lines, numbers
    try:
        close = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise SourceError(display, numbers[0], "front matter opened with '---' is never closed") from None
    import yaml

    try:
        data = yaml.safe_load("\n".join(lines[1:close])) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = numbers[1 + mark.line] if mark and 1 + mark.line < close else numbers[0]
        raise SourceError(display, line, f"invalid front matter: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise SourceError(display, numbers[0], "front matter must be a mapping (title: ..., summary: ...)")

    def key_line(key: str) -> int:
        return next((numbers[i] for i in range(1, close) if lines[i].lstrip().startswith(key + ":")), numbers[0])

    title = data.get("title")
    order = data.get("order", [])
    if not isinstance(order, list) or not all(isinstance(name, str) for name in order):
        raise SourceError(display, key_line("order"),
                          "front matter 'order' must be a list of file names, e.g. order: [adam.py, amsgrad.py]")
    in_reading_order = data.get("in_reading_order", True)
    if not isinstance(in_reading_order, bool):
        raise SourceError(display, key_line("in_reading_order"),
                          "front matter 'in_reading_order' must be true or false")
    front = FrontMatter(title=str(title) if title is not None else None,
                        summary=str(data.get("summary") or "").strip(), order=order,
                        in_reading_order=in_reading_order)
    rest, rest_numbers = lines[close + 1:], numbers[close + 1:]
    while rest and not rest[0].strip():
        rest, rest_numbers = rest[1:], rest_numbers[1:]
    return front, rest, rest_numbers


# Syntax newer than Python 3.8, so that a file written for a newer Python says which one instead of a bare
# "invalid syntax". Each list holds (version, what, pattern):
# - NEWER_SYNTAX patterns match a line `ast.parse` failed on;
# - NEWER_SYNTAX_OPENERS match a line just above it that opens a multi-line construct (the error lands
#   inside it);
# - NEWER_SYNTAX_MESSAGES match the SyntaxError message, for a limitation older Pythons word exactly so
#   (the error of a multi-line f-string lands on its last line).
Entry = Tuple[Tuple[int, int], str, "re.Pattern[str]"]
_F_STRING = r"""(?<![\w'"])[rR]?[fF][rR]?(["'])(?:(?!\1)[^{\n\\]|\\.|\{\{)*\{"""   # up to its first `{`
NEWER_SYNTAX: List[Entry] = [
    ((3, 9), "PEP 614 decorator expression", re.compile(r"^\s*@(?!\s*[\w.]+\s*(\(.*|#.*)?$)")),
    ((3, 10), "match statement", re.compile(r"^\s*(match|case)\b(?!\s*[.=:,;)\]])[^#\n]*:\s*(#.*)?$")),
    ((3, 10), "parenthesised context managers", re.compile(r"^\s*(async\s+)?with\s*\(.*\bas\b.*\)\s*:")),
    ((3, 11), "except* (PEP 654 exception groups)", re.compile(r"^\s*except\s*\*")),
    ((3, 11), "PEP 646 star-unpacking in a subscript or annotation",
     re.compile(r"[\w)\]]\[\s*\*\s*[A-Za-z_]|[(,]\s*\*\s*\w+\s*:\s*\*\s*[A-Za-z_]")),
    ((3, 12), "PEP 695 type alias", re.compile(r"^\s*type\s+[A-Za-z_]\w*\s*(\[[^\]]*\]\s*)?=")),
    ((3, 12), "PEP 695 generic function or class",
     re.compile(r"^\s*((async\s+)?def|class)\s+[A-Za-z_]\w*\s*\[")),
    ((3, 12), "PEP 701 f-string reusing its quotes", re.compile(_F_STRING + r"[^}\n]*?\1")),
    ((3, 12), "PEP 701 f-string with a backslash in an expression", re.compile(_F_STRING + r"[^}\n]*?\\")),
    ((3, 12), "PEP 701 f-string expression spanning lines", re.compile(_F_STRING + r"[^}\n]*$")),
    ((3, 13), "PEP 696 type parameter default",
     re.compile(r"^\s*((async\s+)?def|class|type)\s+[A-Za-z_]\w*\s*\[[^\]]*=")),
    ((3, 14), "PEP 758 except without parentheses",
     re.compile(r"^\s*except\s*\*?\s*[\w.]+(\s*,\s*[\w.]+)+\s*:")),
    ((3, 14), "PEP 750 template string",
     re.compile(r"""(?:^|(?<=[\s(\[=]))([tT][rR]?|[rR][tT])(["'])(?:(?!\2)[^\\\n]|\\.)*\2""")),
]
NEWER_SYNTAX_OPENERS: List[Entry] = [
    ((3, 10), "parenthesised context managers", re.compile(r"^\s*(async\s+)?with\s*\(\s*(#.*)?$")),
]
NEWER_SYNTAX_MESSAGES: List[Entry] = [
    ((3, 12), "PEP 701 f-string with a backslash or comment in an expression",
     re.compile(r"^f-string expression part cannot include (a backslash|'#')")),
]
LINES_ABOVE = 3   # how far above the failing line an opener (`with (`) is looked for


def newer_syntax(failing: Sequence[str], message: str = "", above: Sequence[str] = (),
                 running: Optional[Tuple[int, int]] = None) -> Optional[Tuple[Tuple[int, int], str]]:
    """(version, what) of syntax newer than Python `running` that explains a SyntaxError, else None.

    `failing` are the lines the error spans, `message` its message, `above` the lines just above it,
    nearest first. The message is checked first, then each failing line, then the openers above; the first
    that shows newer syntax decides, and among its matches the newest version wins. `running` defaults to
    this interpreter; only versions newer than it are claimed, since syntax it accepts is not the problem.
    """
    running = tuple(running or sys.version_info[:2])

    def matches(entries: List[Entry], text: str) -> List[Entry]:
        return [entry for entry in entries if entry[0] > running and entry[2].search(text)]

    code = [line for line in failing if not line.lstrip().startswith("#")]   # a comment line is not the cause
    candidates = ([matches(NEWER_SYNTAX_MESSAGES, message)] + [matches(NEWER_SYNTAX, line) for line in code]
                  + [matches(NEWER_SYNTAX_OPENERS, line) for line in above])
    for found in candidates:
        if found:
            version, what, _ = max(found, key=lambda entry: entry[0])
            return version, what
    return None


def _syntax_error_reason(error: SyntaxError, source_lines: List[str]) -> str:
    """`syntax error: <message>`, naming the Python version when the failing code looks newer than this one."""
    reason = f"syntax error: {error.msg}"
    first = max(1, error.lineno or 1)
    last = max(first, error.end_lineno or first)
    above = source_lines[max(0, first - 1 - LINES_ABOVE):first - 1][::-1]
    found = newer_syntax(source_lines[first - 1:last], error.msg or "", above)
    if found is None:
        return reason
    (major, minor), what = found
    return (f"{reason} (this looks like Python {major}.{minor} syntax: {what}; "
            f"this build runs Python {sys.version_info[0]}.{sys.version_info[1]})")


def _has_content(section: Section) -> bool:
    return bool(section.notes.strip()) or any(text.strip() for _, text in section.code)


def split_python(text: str, display: str) -> SplitSource:
    try:
        with warnings.catch_warnings():  # invalid escapes in non-raw docstrings are fine: never evaluated
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=display)
    except SyntaxError as error:
        raise SourceError(display, error.lineno or 1, _syntax_error_reason(error, text.split("\n"))) from None
    except (ValueError, RecursionError, MemoryError) as error:  # null bytes, absurd nesting
        raise SourceError(display, 1, f"cannot parse: {error}") from None
    source_lines = text.split("\n")
    nodes = list(ast.walk(tree))
    docstrings = _find_docstrings(tree, nodes, source_lines)
    comments = _full_line_comments(source_lines, nodes)
    by_owner = {d.owner_start: d for d in docstrings.values() if d.owner_start}
    in_docstring = {n for d in docstrings.values() for n in range(d.start, d.end + 1)}

    front = FrontMatter()
    sections: List[Section] = []
    notes: List[str] = []
    notes_lines: List[int] = []
    current: Optional[Section] = None

    def start(kind: str, lines: List[str], numbers: List[int], raw: bool = True) -> Section:
        nonlocal current
        current = Section(notes_kind=kind, escaped_docstring=not raw)
        sections.append(current)
        notes[:] = list(lines)
        notes_lines[:] = list(numbers)
        current.notes_lines = notes_lines.copy()
        return current

    def finish() -> None:
        if current is not None:
            current.notes = "\n".join(notes)
            current.notes_lines = notes_lines.copy()

    for number, line in enumerate(source_lines, start=1):
        if number == len(source_lines) and not line:
            break  # the empty string after the final newline
        owner = by_owner.get(number)
        if owner is not None:
            finish()
            start("docstring", owner.lines, owner.line_numbers, owner.raw)
        doc = docstrings.get(number)
        if doc is not None and doc.owner_start == 0:
            lines, numbers = doc.lines, doc.line_numbers
            front, lines, numbers = parse_front_matter(lines, numbers, display)
            finish()
            start("docstring", lines, numbers, doc.raw)
        if number in in_docstring:
            continue
        comment = comments.get(number)
        if comment is not None and not (number <= 2 and (line.startswith("#!") or CODING_COOKIE.match(line))):
            has_code = current is not None and any(t.strip() for _, t in current.code)
            if current is None or has_code or current.notes_kind != "comment":
                finish()
                start("comment", [], [])
            notes.append(comment.rstrip())
            notes_lines.append(number)
            continue
        if current is None:
            start("comment", [], [])
        if not line.strip() and (number - 1) in in_docstring:
            continue  # the blank line that set the docstring apart has nothing to set apart in the code
        if not line.strip() and not current.code:
            if notes and notes[-1]:
                notes.append("")  # a blank line between comment runs is a paragraph break
                notes_lines.append(number)
            continue  # no leading blank lines in the code column
        current.code.append((number, line))
    finish()

    for section in sections:
        while section.code and not section.code[-1][1].strip():
            section.code.pop()
        while section.notes_lines and section.notes.endswith("\n"):
            section.notes = section.notes[:-1]
            section.notes_lines.pop()
        if section.notes and not section.notes.strip():
            section.notes, section.notes_lines = "", []
    return SplitSource(front=front, sections=[s for s in sections if _has_content(s)])


def split_markdown(text: str, display: str) -> SplitSource:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    numbers = list(range(1, len(lines) + 1))
    front, lines, numbers = parse_front_matter(lines, numbers, display)
    section = Section(notes="\n".join(lines), notes_kind="markdown", notes_lines=numbers)
    return SplitSource(front=front, sections=[section] if _has_content(section) else [])


def split_source(text: str, kind: str, display: str) -> SplitSource:
    return split_markdown(text, display) if kind == "markdown" else split_python(text, display)
