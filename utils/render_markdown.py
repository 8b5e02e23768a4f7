"""Markdown notes -> HTML, in two steps, so that a page's equations can go to MathJax before its HTML is made.

1. `parse_notes` parses a section's notes with markdown-it (the parser is `markdown_parser.make_parser`) and
   collects what later stages need: the equations (TeX, mode, source line), the links, the headings (given
   unique ids) and the anchors raw HTML defines, and the plain text for search.
2. `render_notes` renders the parsed tokens. Equations and fenced code are filled in by markdown-it render
   rules from what the caller passes (typeset HTML, a highlighter), so no placeholder ever sits in the HTML
   and nothing in a source's text can pose as an equation.

Links to `name.py` / `__init__.py` / `name.md` are rewritten to the page they become.
"""
import html
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, List, Optional, Set
from urllib.parse import urlsplit

from .search_index import tex_to_text

MATH_TOKENS = {"math_inline": False, "math_inline_double": True, "math_block": True,
               "math_block_label": True, "amsmath": True}
HTML_LINK = re.compile(r"""(?<![\w-])(href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
HTML_ANCHOR = re.compile(r"""(?<![\w-])(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


@dataclass
class Math:
    tex: str
    display: bool
    line: int              # source line the equation starts on
    in_paragraph: bool     # `$$...$$` inside a paragraph: rendered as a block-styled <span>


@dataclass
class Link:
    target: str            # as written (after .py -> .html rewriting)
    line: int


@dataclass
class Heading:
    id: str
    text: str
    level: int


@dataclass
class ParsedNotes:
    tokens: list                                         # markdown-it tokens, rendered by `render_notes`
    maths: List[Math] = field(default_factory=list)
    links: List[Link] = field(default_factory=list)
    headings: List[Heading] = field(default_factory=list)
    anchors: List[str] = field(default_factory=list)     # ids that raw HTML defines (`<a id="x">`)
    text: str = ""                                       # plain text, math in a readable form, for search


@lru_cache(maxsize=1)
def _markdown():
    from .markdown_parser import make_parser

    md = make_parser()
    for name in MATH_TOKENS:
        md.add_render_rule(name, _render_math)
    md.add_render_rule("fence", _render_fence)
    return md


def _render_math(renderer, tokens, index, options, env) -> str:
    token = tokens[index]
    return env["math_html"][token.meta["math"]] + ("\n" if token.block else "")


def _render_fence(renderer, tokens, index, options, env) -> str:
    from markdown_it.common.utils import unescapeAll

    token = tokens[index]
    info = unescapeAll(token.info).strip()
    return env["highlight"](token.content, info.split()[0] if info else "")


def rewrite_source_link(target: str) -> str:
    """`radam.py` -> `radam.html`, `x/__init__.py` and `x/` -> `x/index.html`, `readme.md#a` -> `readme.html#a`."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path:
        return target
    folder, _, name = parts.path.rpartition("/")
    if not name and folder:  # `optimizers/` -> `optimizers/index.html`, which also works from file://
        name = "index.html"
    elif name == "__init__.py":
        name = "index.html"
    elif name.endswith(".py") or name.endswith(".md"):
        name = name.rsplit(".", 1)[0] + ".html"
    else:
        return target
    path = (folder + "/" if folder else "") + name
    return path + ("?" + parts.query if parts.query else "") + ("#" + parts.fragment if parts.fragment else "")


def slugify(text: str) -> str:
    slug = re.sub(r"[^\w\- ]+", "", text.lower(), flags=re.UNICODE).strip()
    return re.sub(r"[\s]+", "-", slug) or "heading"


def parse_notes(notes: str, notes_lines: List[int], used_ids: Set[str]) -> ParsedNotes:
    """Parse one section's notes. `notes_lines[i]` is the source line of line i of `notes`; `used_ids` holds
    the ids already taken on the page (headings get unique ids, which are added to it)."""
    if not notes.strip():
        return ParsedNotes(tokens=[])
    tokens = _markdown().parse(notes)
    result = ParsedNotes(tokens=tokens)
    text_parts: List[str] = []
    last = len(notes_lines) - 1

    def source_line(notes_line: int) -> int:
        return notes_lines[min(max(notes_line, 0), last)]

    def collect_html(content: str, line: int) -> None:
        for match in HTML_LINK.finditer(content):
            target = match.group(2) if match.group(2) is not None else match.group(3)
            result.links.append(Link(target=target, line=line))
        result.anchors.extend(a or b for a, b in HTML_ANCHOR.findall(content))

    def add_math(token, line: int, in_paragraph: bool) -> None:
        display = MATH_TOKENS[token.type]
        text_parts.append(tex_to_text(token.content))   # search shows and finds equations too
        token.meta["math"] = len(result.maths)
        result.maths.append(Math(tex=token.content, display=display, line=source_line(line),
                                 in_paragraph=display and in_paragraph))

    in_paragraph = False
    for token in tokens:
        line = token.map[0] if token.map else 0
        if token.type in MATH_TOKENS:
            add_math(token, line, False)
        elif token.type == "html_block":
            collect_html(token.content, source_line(line))
        elif token.type in ("code_block", "fence"):
            text_parts.append(token.content)
        elif token.type == "paragraph_open":
            in_paragraph = True
        elif token.type == "paragraph_close":
            in_paragraph = False
        elif token.type == "inline":
            # Inline tokens carry no line of their own: count the line breaks before each one.
            for child in token.children or []:
                if child.type in MATH_TOKENS:
                    add_math(child, line, in_paragraph)
                elif child.type in ("link_open", "image"):
                    attr = "href" if child.type == "link_open" else "src"
                    target = child.attrGet(attr)
                    if target is not None:
                        rewritten = rewrite_source_link(target)
                        child.attrSet(attr, rewritten)
                        result.links.append(Link(target=rewritten, line=source_line(line)))
                elif child.type == "html_inline":
                    collect_html(child.content, source_line(line))
                if child.type in ("text", "code_inline"):
                    text_parts.append(child.content)
                if child.type in ("softbreak", "hardbreak"):
                    line += 1
                elif child.type in MATH_TOKENS or child.type == "html_inline":
                    line += child.content.count("\n")
                if child.children:  # an image's alt text
                    text_parts.extend(c.content for c in child.children if c.type == "text")

    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[index + 1]
        title = "".join(child.content for child in (inline.children or [])
                        if child.type in ("text", "code_inline")).strip()
        base = slugify(title)
        slug, n = base, 1
        while slug in used_ids:
            n += 1
            slug = f"{base}-{n}"
        used_ids.add(slug)
        token.attrSet("id", slug)
        result.headings.append(Heading(id=slug, text=title, level=int(token.tag[1])))

    result.text = " ".join(part.strip() for part in text_parts if part.strip())
    return result


def tex_attribute(tex: str) -> str:
    """An equation's TeX as a double-quoted attribute value: trimmed, with only `&`, `"` and `<` escaped (the
    least that keeps it exact and safe), so the page keeps its TeX for copying at a few bytes' cost."""
    return tex.strip().replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def wrap_math(math: Math, typeset_html: str) -> str:
    """A typeset equation in the element the page styles it by, carrying its TeX in `data-tex` (site.js
    copies it: a selection with math copies as `$tex$` / `$$tex$$`, and display equations offer "Copy TeX")."""
    tex = tex_attribute(math.tex)
    if not math.display:
        return f'<span class="math inline" data-tex="{tex}">{typeset_html}</span>'
    if math.in_paragraph:
        return f'<span class="math display" data-tex="{tex}">{typeset_html}</span>'
    return f'<div class="math display" data-tex="{tex}">{typeset_html}</div>'


def math_error_html(math: Math, reason: str) -> str:
    """An equation MathJax could not typeset: its TeX as written, marked as an error, so the page still
    builds and the reader sees what is wrong."""
    delimiter = "$$" if math.display else "$"
    tag = "div" if math.display and not math.in_paragraph else "span"
    return (f'<{tag} class="math math-error" title="{html.escape("TeX error: " + reason)}">'
            f"{html.escape(delimiter + math.tex + delimiter)}</{tag}>")


def render_notes(parsed: ParsedNotes, math_html: Optional[List[str]] = None,
                 highlight: Optional[Callable[[str, str], str]] = None) -> str:
    """HTML of parsed notes. `math_html[i]` is the HTML that stands for `parsed.maths[i]` (see `wrap_math`);
    `highlight(code, lang)` gives the HTML of a fenced code block."""
    if not parsed.tokens:
        return ""
    md = _markdown()
    env = {"math_html": math_html if math_html is not None else [""] * len(parsed.maths),
           "highlight": highlight or _plain_fence}
    return md.renderer.render(parsed.tokens, md.options, env)


def _plain_fence(code: str, lang: str) -> str:
    return f"<pre><code>{html.escape(code)}</code></pre>\n"
