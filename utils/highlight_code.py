"""Pygments highlighting: the code column (with original line numbers) and fenced code blocks in notes.

Output uses Pygments' short token classes (`n`, `k`, `nf`, ...) and no inline styles; the light and dark
colours come from templates/static/pygments-*.css.
"""
import html
from functools import lru_cache
from typing import Dict, List, Tuple


@lru_cache(maxsize=1)
def _formatter():
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True)


def highlight_python_lines(text: str) -> Dict[int, str]:
    """Highlight a whole module at once (so multi-line strings lex right); line number -> HTML of that line.

    Pygments closes and reopens spans at every newline, so each line's HTML is balanced on its own.
    """
    from pygments import highlight
    from pygments.lexers import PythonLexer

    out = highlight(text, PythonLexer(stripnl=False, ensurenl=True), _formatter())
    return {number: line for number, line in enumerate(out.split("\n"), start=1)}


def render_code_column(code: List[Tuple[int, str]], highlighted: Dict[int, str]) -> str:
    if not code:
        return ""
    rows = []
    for number, raw in code:
        line_html = highlighted.get(number, html.escape(raw))
        rows.append(f'<span class="line" id="L{number}"><span class="lineno">{number}</span>{line_html}</span>')
    return '<pre class="code-block"><code>' + "\n".join(rows) + "</code></pre>"


def highlight_fenced_code(code: str, lang: str) -> str:
    from pygments import highlight
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    name = (lang or "").strip().split()[0] if (lang or "").strip() else ""
    try:
        lexer = get_lexer_by_name(name or "text", stripnl=False)
    except ClassNotFound:
        lexer = get_lexer_by_name("text", stripnl=False)
    body = highlight(code, lexer, _formatter())
    if body.endswith("\n"):
        body = body[:-1]
    cls = f' class="language-{html.escape(name)}"' if name else ""
    return f'<pre class="highlight"><code{cls}>{body}</code></pre>\n'
