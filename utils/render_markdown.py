"""Markdown notes -> HTML, with math, links and headings collected for the later stages.

markdown-it-py with mdit-py-plugins: `dollarmath` for `$...$` (inline) and `$$...$$` (display), `amsmath` for
a bare `\\begin{align}...\\end{align}`. A `$` only opens math when followed by a non-space and only closes
after a non-space and when no digit follows, so `costs $5 and $10` stays text.

Each equation is left in the HTML as a placeholder (`\\x02N\\x03`, N = index into `maths`); `typeset_math`
fills them in. Fenced code is left the same way (`\\x04N\\x05`, N = index into `fences`) for `highlight_code`,
so that a page's equations can go to MathJax before Pygments is even loaded. Links to `name.py` /
`__init__.py` / `name.md` are rewritten to the page they become.
"""
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import List, Set
from urllib.parse import urlsplit

MATH_TOKENS = {"math_inline": False, "math_inline_double": True, "math_block": True,
               "math_block_label": True, "amsmath": True}
HTML_LINK = re.compile(r"""\b(href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


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
class Fence:
    code: str
    lang: str              # the first word of the info string ("python" in ```python), or ""


@dataclass
class RenderedNotes:
    html: str
    maths: List[Math] = field(default_factory=list)
    fences: List[Fence] = field(default_factory=list)
    links: List[Link] = field(default_factory=list)
    headings: List[dict] = field(default_factory=list)   # {"id", "text", "level"}
    text: str = ""                                       # plain text (no math), for search


def math_placeholder(index: int) -> str:
    return f"\x02{index}\x03"


MATH_PLACEHOLDER = re.compile("\x02(\\d+)\x03")


def fence_placeholder(index: int) -> str:
    return f"\x04{index}\x05"


FENCE_PLACEHOLDER = re.compile("\x04(\\d+)\x05")


@lru_cache(maxsize=1)
def _markdown():
    from .markdown_parser import make_parser

    return make_parser()


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


def _line_of(needle: str, lines: List[str], numbers: List[int], first: int, last: int) -> int:
    """Source line of the first of notes lines [first, last) that contains `needle`."""
    probe = needle.strip().split("\n", 1)[0][:60]
    for i in range(first, min(last, len(lines))):
        if probe and probe in lines[i]:
            return numbers[i]
    return numbers[first] if first < len(numbers) else (numbers[-1] if numbers else 1)


def render_notes(notes: str, notes_lines: List[int], used_ids: Set[str], first_math: int = 0,
                 first_fence: int = 0) -> RenderedNotes:
    """Render one section's notes. `used_ids` holds ids already taken on the page (headings get unique ids);
    placeholders count from `first_math` and `first_fence`, so that one list can hold the equations (and one
    the fenced code) of a whole page."""
    if not notes.strip():
        return RenderedNotes(html="")
    from markdown_it.common.utils import unescapeAll

    md = _markdown()
    env: dict = {}
    tokens = md.parse(notes, env)
    lines = notes.split("\n")
    result = RenderedNotes(html="")
    text_parts: List[str] = []
    block_first, block_last = 0, len(lines)

    def walk(token_list, in_paragraph):
        for token in token_list:
            if token.map:
                nonlocal block_first, block_last
                block_first, block_last = token.map
            if token.type in MATH_TOKENS:
                tex = token.content
                if token.map and token.map[0] < len(notes_lines):  # a block: the line it opens on
                    line = notes_lines[token.map[0]]
                else:
                    line = _line_of(tex, lines, notes_lines, block_first, block_last)
                display = MATH_TOKENS[token.type]
                result.maths.append(Math(tex=tex, display=display, line=line,
                                         in_paragraph=display and in_paragraph))
                token.type = "html_inline" if token.type.startswith("math_inline") else "html_block"
                token.content = math_placeholder(first_math + len(result.maths) - 1)
                if token.type == "html_block":
                    token.content += "\n"
                continue
            if token.type in ("link_open", "image"):
                attr = "href" if token.type == "link_open" else "src"
                target = token.attrGet(attr)
                if target is not None:
                    rewritten = rewrite_source_link(target)
                    token.attrSet(attr, rewritten)
                    line = _line_of(target, lines, notes_lines, block_first, block_last)
                    result.links.append(Link(target=rewritten, line=line))
            if token.type in ("html_inline", "html_block"):
                for match in HTML_LINK.finditer(token.content):
                    target = match.group(2) if match.group(2) is not None else match.group(3)
                    line = _line_of(target, lines, notes_lines, block_first, block_last)
                    result.links.append(Link(target=target, line=line))
            if token.type in ("text", "code_inline", "code_block", "fence"):
                text_parts.append(token.content)
            if token.type == "fence":
                info = unescapeAll(token.info).strip()
                result.fences.append(Fence(code=token.content, lang=info.split()[0] if info else ""))
                token.type = "html_block"
                token.content = fence_placeholder(first_fence + len(result.fences) - 1) + "\n"
            if token.children:
                walk(token.children, token.type == "inline" and in_paragraph)
            if token.type in ("paragraph_open",):
                in_paragraph = True
            elif token.type in ("paragraph_close",):
                in_paragraph = False

    walk(tokens, False)

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
        result.headings.append({"id": slug, "text": title, "level": int(token.tag[1])})

    result.html = md.renderer.render(tokens, md.options, env)
    result.text = " ".join(part.strip() for part in text_parts if part.strip())
    return result


def fill_math(html: str, maths: List[Math], typeset: List[str]) -> str:
    """Replace the placeholders with the typeset equations (typeset[i] is the HTML of maths[i])."""

    def replace(match):
        i = int(match.group(1))
        math = maths[i]
        if not math.display:
            return f'<span class="math inline">{typeset[i]}</span>'
        if math.in_paragraph:
            return f'<span class="math display">{typeset[i]}</span>'
        return f'<div class="math display">{typeset[i]}</div>'

    return MATH_PLACEHOLDER.sub(replace, html)


def fill_fences(html: str, highlighted: List[str]) -> str:
    """Replace the fenced-code placeholders with their highlighted HTML (highlighted[i] is that of fences[i])."""
    return FENCE_PLACEHOLDER.sub(lambda match: highlighted[int(match.group(1))], html)
