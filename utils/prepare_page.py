"""One source file -> one prepared page: the notes and code of each section as HTML, ready for a template.

Three steps, so that every equation of a build is sent to MathJax before Python starts on the slow part,
and the code can be highlighted in another process meanwhile:

    parse_page(source)                          split into sections and parse the notes; collect the equations
    highlight_page(code_to_highlight(parsed))   Pygments on the code column's lines
    finish_page(parsed, typeset, highlighted)   render the notes with their typeset equations, and the code

A source that cannot be split (unreadable, not decodable, a syntax error) still becomes a page
(`failed_page`): a notice with the reason, and the source as code where there is one. Every problem is a
`(line, reason)` warning of the page; the build names the file.
"""
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .errors import SourceError, SourceErrors
from .read_source import SourceFile
from .render_markdown import Math, ParsedNotes, math_error_html, parse_notes, render_notes, wrap_math

TypesetResults = Dict[Tuple[str, bool], Tuple[bool, str]]   # (tex, display) -> (ok, html or MathJax's error)
ESCAPED_MACRO = re.compile(r"\\\\([A-Za-z]+)")
DEFINITION = re.compile(r"\s*(?:async\s+)?(def|class)\s+([A-Za-z_]\w*)")


@dataclass
class PageSection:
    id: str
    notes_kind: str            # "docstring", "comment" or "markdown"
    notes_html: str
    code_html: str
    notes_text: str            # plain text of the notes, for search
    headings: List[str]


@dataclass
class PreparedPage:
    rel: str                                   # source path inside the source folder
    title: str
    summary: str
    is_markdown_page: bool
    sections: List[PageSection]
    links: List[Tuple[str, int]] = field(default_factory=list)     # (target, source line)
    anchors: List[str] = field(default_factory=list)               # ids a link may point at
    order: List[str] = field(default_factory=list)                 # front matter: the folder's reading order
    in_reading_order: bool = True                                  # front matter: False for a tooling page
    outline: List[Tuple[str, str, int]] = field(default_factory=list)   # (anchor, text, level): "on this page"
    warnings: List[Tuple[int, str]] = field(default_factory=list)  # (source line, reason)
    failed: bool = False                       # could not be split: a notice and the source as code

    def to_dict(self) -> dict:
        # By hand: dataclasses.asdict deep-copies every value and cost 0.2 s on a 221-page build.
        data = dict(self.__dict__)
        data["sections"] = [dict(section.__dict__) for section in self.sections]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "PreparedPage":
        page = cls(**data)
        page.sections = [PageSection(**section) for section in page.sections]
        page.links = [tuple(link) for link in page.links]
        page.warnings = [tuple(warning) for warning in page.warnings]
        page.outline = [tuple(entry) for entry in page.outline]
        return page


@dataclass
class ParsedSection:
    id: str
    notes_kind: str
    notes: ParsedNotes
    code: List[Tuple[int, str]]                # (source line, text)


@dataclass
class ParsedPage:
    source: SourceFile
    title: str
    summary: str
    sections: List[ParsedSection]
    anchors: List[str]
    warnings: List[Tuple[int, str]]
    order: List[str] = field(default_factory=list)
    in_reading_order: bool = True

    @property
    def maths(self) -> List[Math]:
        return [math for section in self.sections for math in section.notes.maths]


def fallback_title(rel: str) -> str:
    """`x/y/__init__.py` -> "y", `x/adam.py` -> "adam", the root `__init__.py` -> "Home"."""
    path = Path(rel)
    if path.name == "__init__.py" and len(path.parts) > 1:
        return path.parts[-2]
    return "Home" if path.stem == "__init__" else path.stem


def parse_page(source: SourceFile) -> ParsedPage:
    """Split `source` and parse its notes. Raises SourceError when it cannot be split (see `failed_page`)."""
    from .split_sections import split_source

    split = split_source(source.text, source.kind, source.display)
    ids = [f"section-{i}" for i in range(len(split.sections))]
    used_ids = set(ids)
    used_ids.update(f"L{n}" for section in split.sections for n, _ in section.code)
    sections, warnings, headings = [], [], []
    for section_id, section in zip(ids, split.sections):
        notes = parse_notes(section.notes, section.notes_lines, used_ids)
        if section.escaped_docstring:
            warnings += _escaped_tex(notes.maths)
        headings += notes.headings
        sections.append(ParsedSection(section_id, section.notes_kind, notes, section.code))
    title = split.title or (headings[0].text if headings else fallback_title(source.rel))
    anchors = sorted(used_ids | {a for s in sections for a in s.notes.anchors})
    return ParsedPage(source, title, split.summary, sections, anchors, warnings,
                      order=split.front.order, in_reading_order=split.front.in_reading_order)


def _escaped_tex(maths: List[Math]) -> List[Tuple[int, str]]:
    r"""`\\eta` in a docstring without the r prefix: Python reads `\eta`, but the page shows the text as written
    (docstrings are never evaluated), so MathJax gets a line break and the word "eta"."""
    warnings = []
    for math in maths:
        found = ESCAPED_MACRO.search(math.tex)
        if found:
            warnings.append((math.line, f"math `{found.group(0)}` in a docstring that is not raw: make it "
                                        f'r"""...""" and write `\\{found.group(1)}`'))
    return warnings


def page_outline(sections: List[ParsedSection]) -> List[Tuple[str, str, int]]:
    """(anchor, text, level) of what a reader navigates a page by: its h2/h3 headings, and each class or
    function whose docstring has no heading of its own (by its name: classes at level 2, functions at 3)."""
    outline = []
    for section in sections:
        headings = [h for h in section.notes.headings if h.level in (2, 3)]
        outline += [(h.id, h.text, h.level) for h in headings]
        if headings or section.notes_kind != "docstring" or section.notes.headings:
            continue
        definition = next((DEFINITION.match(text) for _, text in section.code
                           if text.strip() and not text.lstrip().startswith("@")), None)
        if definition:
            outline.append((section.id, definition.group(2), 2 if definition.group(1) == "class" else 3))
    return outline


def code_to_highlight(parsed: ParsedPage) -> Optional[str]:
    """The text Pygments should lex for the code column, or None (Markdown has no code column): the module
    with the lines the column does not show (docstrings, comments) blanked, so line numbers stay."""
    if parsed.source.kind != "python":
        return None
    shown = {n for section in parsed.sections for n, _ in section.code}
    return "\n".join(line if number in shown else ""
                     for number, line in enumerate(parsed.source.text.split("\n"), start=1))


def highlight_page(code: Optional[str]) -> Dict[int, str]:
    """{line number: HTML} of `code_to_highlight`'s text ({} for None)."""
    from .highlight_code import highlight_python_lines

    return highlight_python_lines(code) if code is not None else {}


def finish_page(parsed: ParsedPage, typeset: TypesetResults,
                highlighted: Optional[Dict[int, str]] = None) -> PreparedPage:
    """Render the notes and the code column; `typeset` holds the answer for each of the page's equations,
    `highlighted` is `highlight_page`'s answer (made here when not given). An equation MathJax rejects is
    shown as its TeX in an error style, and warned about."""
    from .highlight_code import highlight_fenced_code, render_code_column

    source, warnings = parsed.source, list(parsed.warnings)
    if highlighted is None:
        highlighted = highlight_page(code_to_highlight(parsed))
    sections, links = [], []
    for section in parsed.sections:
        math_html = []
        for math in section.notes.maths:
            ok, html = typeset[(math.tex, math.display)]
            if ok:
                math_html.append(wrap_math(math, html))
            else:
                warnings.append((math.line, f"invalid TeX: {' '.join(math.tex.split())} -- MathJax: {html}"))
                math_html.append(math_error_html(math, html))
        notes_html = render_notes(section.notes, math_html, highlight_fenced_code)
        links += [(link.target, link.line) for link in section.notes.links]
        sections.append(PageSection(
            id=section.id, notes_kind=section.notes_kind, notes_html=notes_html,
            code_html=render_code_column(section.code, highlighted), notes_text=section.notes.text,
            headings=[heading.text for heading in section.notes.headings]))
    return PreparedPage(rel=source.rel, title=parsed.title, summary=parsed.summary,
                        is_markdown_page=source.kind == "markdown", sections=sections, links=links,
                        anchors=parsed.anchors, warnings=sorted(warnings), order=parsed.order,
                        in_reading_order=parsed.in_reading_order, outline=page_outline(parsed.sections))


def failed_page(source: SourceFile, problems: List[SourceError]) -> PreparedPage:
    """The page of a source that could not be split: the reasons, then the source as code (if it was read)."""
    import html

    from .highlight_code import highlight_python_lines, render_code_column

    reasons = "".join(f"<li><code>{html.escape(str(problem))}</code></li>" for problem in problems)
    notes = (f'<div class="build-warning" role="note"><p>This page could not be built from its source:</p>'
             f"<ul>{reasons}</ul></div>\n")
    code_html = ""
    if source.text is not None:
        lines = source.text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        highlighted = highlight_python_lines(source.text) if source.kind == "python" else {}
        code_html = render_code_column(list(enumerate(lines, start=1)), highlighted)
    section = PageSection(id="section-0", notes_kind="comment", notes_html=notes, code_html=code_html,
                          notes_text="", headings=[])
    return PreparedPage(rel=source.rel, title=fallback_title(source.rel), summary="",
                        is_markdown_page=source.kind == "markdown" and not code_html, sections=[section],
                        anchors=["section-0"], warnings=[(p.line, p.reason) for p in problems], failed=True)


def prepare_or_fail(source: SourceFile) -> Tuple[Optional[ParsedPage], Optional[PreparedPage]]:
    """(parsed page, None), or (None, the failed page) when the source cannot be split."""
    if source.error is not None:
        return None, failed_page(source, [source.error])
    try:
        return parse_page(source), None
    except SourceError as error:
        return None, failed_page(source, [error])
    except SourceErrors as many:
        return None, failed_page(source, many.errors)
    except Exception as error:  # a generator bug on an odd file: this page says so, the rest still build
        return None, failed_page(source, [SourceError(source.display, 1,
                                                      f"generator error {type(error).__name__}: {error}")])
