"""The markdown-it parser of the notes: which text is Markdown, which is math.

CommonMark with tables and strikethrough, raw HTML allowed, and math from mdit-py-plugins: `dollarmath`
(`$...$` inline, `$$...$$` display, on its own lines or inside a paragraph) and `amsmath` (a bare
`\\begin{align}...\\end{align}`, and the other amsmath environments). On top of the plugins, three rules
read the text the way its author meant it (and the way nn.labml.ai typesets it):

- **Inline `$`**: a `$` opens inline math only when a non-space follows it; the closing `$` may follow a
  space (`$a + b $`), but it must not be followed by a digit, and the opening `$` must not follow one,
  so `costs $5 and $10` stays text. (The plugin's `allow_space=False` also refused the space before
  the closing `$`.)
- **`$$` inside a paragraph**: once a line of a paragraph starts with `$$` and a later line (before any
  blank line) closes it, the lines in between and the closing line belong to the math. A line starting
  with `+ `, `- `, `* `, `1. `, `#`, `>`, `---` ... does not start a list, heading, quote or rule there;
  the paragraph goes on and its `$$...$$` becomes `math_inline_double`, as any `$$...$$` inside a
  paragraph does.
- **Indented environments**: an environment that starts with `\\begin{...}` (an amsmath environment)
  is math even when indented four or more spaces, which would otherwise make it an indented code block.
  An indented block that does not start with `\\begin{` stays code; fenced code and inline code are
  never math.

Token types: `math_inline`, `math_inline_double`, `math_block`, `math_block_label`, `amsmath`;
`token.content` is the TeX and block tokens have `token.map`.
"""
from markdown_it import MarkdownIt
from markdown_it.common.utils import isWhiteSpace, mdTrim
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from mdit_py_plugins.amsmath import amsmath_block, amsmath_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_inline_dollar


def make_parser() -> MarkdownIt:
    """A new, configured parser (callers cache it)."""
    md = MarkdownIt("commonmark", {"html": True})
    md.enable(["table", "strikethrough"])
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)
    md.use(amsmath_plugin)
    md.inline.ruler.at("math_inline", _inline_dollar_rule())
    md.block.ruler.before("code", "amsmath_indented", _indented_amsmath)
    md.block.ruler.before("lheading", "paragraph_display_math", _paragraph_with_display_math)
    return md


# Inline `$`

def _inline_dollar_rule():
    """The plugin's inline rule with spaces allowed, after our own check that the opening `$` is
    followed by a non-space; the plugin still refuses a digit before the opening or after the closing
    `$`, and for `$$` the opening is `$$` itself, so nothing changes there."""
    plugin_rule = math_inline_dollar(allow_space=True, allow_digits=False, allow_double=True)

    def math_inline(state: StateInline, silent: bool) -> bool:
        src, pos = state.src, state.pos
        if src[pos] != "$" or pos + 1 >= len(src):
            return False
        following = src[pos + 1]
        if following != "$" and isWhiteSpace(ord(following)):
            return False
        return plugin_rule(state, silent)

    return math_inline


# Indented `\begin{...}`

def _indented_amsmath(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    """An amsmath environment indented like code: hand it to the plugin's rule as if its first line
    set the indentation (the plugin refuses code-indented lines). The plugin strips that indentation
    from the TeX and returns False when the environment is not an amsmath one or is never closed, and
    the `code` rule then takes the lines as before."""
    if not state.is_code_block(startLine):
        return False
    start = state.bMarks[startLine] + state.tShift[startLine]
    if not state.src.startswith("\\begin{", start):
        return False
    indent = state.blkIndent
    state.blkIndent = state.sCount[startLine]
    try:
        return amsmath_block(state, startLine, endLine, silent)
    finally:
        state.blkIndent = indent


# `$$` inside a paragraph

def _unescaped(text: str, marker: str, start: int = 0) -> int:
    """Index of the first `marker` in text[start:] not preceded by an odd number of backslashes; -1."""
    pos = text.find(marker, start)
    while pos >= 0:
        backslashes = 0
        while pos - backslashes - 1 >= 0 and text[pos - backslashes - 1] == "\\":
            backslashes += 1
        if backslashes % 2 == 0:
            return pos
        pos = text.find(marker, pos + 1)
    return -1


def _line_text(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]


def _display_math_end(state: StateBlock, startLine: int, line: int, lastLine: int):
    """If `line` (in the paragraph that starts at `startLine`) starts with a `$$` that a later line
    closes, the closing line; else None. No blank line in between; the paragraph's own inline rules
    must read that `$$` as an opening one (not the closing of a `$$` opened earlier in a line, nor
    something inside a code span) and its math must end on the closing line."""
    text = _line_text(state, line)
    if not text.startswith("$$") or _unescaped(text, "$$", 2) >= 0:
        return None
    closing = None
    for candidate in range(line + 1, lastLine):
        if state.isEmpty(candidate):
            return None
        if _unescaped(_line_text(state, candidate), "$$") >= 0:
            closing = candidate
            break
    if closing is None:
        return None
    paragraph = mdTrim(state.getLines(startLine, closing + 1, state.blkIndent, False))
    tokens: list = []
    state.md.inline.parse(paragraph, state.md, state.env, tokens)
    opening = text[2:]
    for token in tokens:
        if (token.type == "math_inline_double" and token.content.startswith(opening)
                and token.content.count("\n") == closing - line):
            return closing
    return None


def _setext_level(state: StateBlock, line: int) -> int:
    """1 or 2 when `line` is a setext heading underline (`===` / `---`) for the paragraph above; else 0."""
    if state.sCount[line] < state.blkIndent:
        return 0
    text = _line_text(state, line).rstrip(" \t")
    if text and text[0] in "=-" and text == text[0] * len(text):
        return 1 if text[0] == "=" else 2
    return 0


def _paragraph_with_display_math(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    """A paragraph (or setext heading) that holds a `$$` display block opened at the start of a line:
    the same line-by-line scan as markdown-it's `lheading` and `paragraph` rules, except that the lines
    of that block are not checked for anything that would end the paragraph. Returns False (and leaves
    the paragraph to those rules) when the paragraph has no such block."""
    if silent or state.is_code_block(startLine):
        return False
    lastLine = state.lineMax
    line = startLine
    while line < lastLine and not state.isEmpty(line) and not _line_text(state, line).startswith("$$"):
        line += 1
    if line >= lastLine or state.isEmpty(line):
        return False  # no line up to the next blank one starts with `$$`: a plain paragraph
    terminators = state.md.block.ruler.getRules("paragraph")
    parentType = state.parentType
    state.parentType = "paragraph"
    try:
        protected = False
        level = 0
        line = startLine
        while True:
            end = _display_math_end(state, startLine, line, lastLine)
            if end is not None:
                protected, line = True, end
            line += 1
            if line >= lastLine or state.isEmpty(line):
                break
            if state.sCount[line] - state.blkIndent > 3 or state.sCount[line] < 0:
                continue  # lazy continuation; a blockquote's own lines
            level = _setext_level(state, line)
            if level or any(rule(state, line, lastLine, True) for rule in terminators):
                break
    finally:
        state.parentType = parentType
    if not protected:
        return False

    content = mdTrim(state.getLines(startLine, line, state.blkIndent, False))
    if level:
        tag, markup = f"h{level}", "=" if level == 1 else "-"
        state.line = line + 1
        token = state.push("heading_open", tag, 1)
        token.markup, token.map = markup, [startLine, state.line]
        token = state.push("inline", "", 0)
        token.content, token.map, token.children = content, [startLine, line], []
        token = state.push("heading_close", tag, -1)
        token.markup = markup
        return True
    state.line = line
    token = state.push("paragraph_open", "p", 1)
    token.map = [startLine, line]
    token = state.push("inline", "", 0)
    token.content, token.map, token.children = content, [startLine, line], []
    state.push("paragraph_close", "p", -1)
    return True
