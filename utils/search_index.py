"""Build the site's full-text search index at build time.

The index covers page titles, summaries, section headings and the notes' text, math included in a readable
form (`tex_to_text`: ``\\beta_2`` is stored as ``β_2``). It is returned as JavaScript that sets
``window.SITE_SEARCH_INDEX``; the core build writes it to ``docs/search-index.js`` and the pages load it
with a ``<script>`` tag on first use of the search box, so search works offline and from ``file://``,
where ``fetch()`` is blocked.

Shape: how words are folded, then each page's entries as the page alone gives them, so that a build
serialises a page's part once, when it prepares the page, and a rebuild only joins those strings (merging
every page's terms on each build was a tenth of a one-file rebuild of the labml-nn corpus)::

    {
      "fold": {"greek": {"α": "alpha", ...}, "stop": "a an and ..."},
      "weights": {"title": 20, "heading": 8, "summary": 6},
      "pages": [[page title, page url, [
                  [section anchor ("" for the page top), section heading, text(, [more headings])],
                  ...](, page summary)],
                ...]
    }

The entries carry the text rather than its words: the browser shows a snippet around the match, so it
needs the text anyway, and the words it derives from it on the first search (`templates/static/site.js`,
`invert`) would double the file if they were stored too. So the folding is done twice, here
(`fold_words`, `entry_terms`: the reference the tests pin) and in the browser, from the one table of
Greek letters and the one list of stop words written into the file.

Folding: each character lower-cased, decomposed (NFKD: ``₂`` -> ``2``, ``𝛽`` -> ``β``), accents dropped,
a Greek letter replaced by its name as a word of its own; words are runs of ASCII letters and digits, and
a Greek letter's name followed by a number (after spaces, ``_`` or ``{``) is one word: ``β₂``, ``β_2``,
``\\beta_{2}``, ``beta 2`` and ``beta2`` all fold to ``beta2``.

Weights (`entry_terms`): a word in the page title (page top only) weighs most, then one in a section
heading, then one in the page summary (page top only), then one in the text (1 to 4 with more uses).
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Iterable, Mapping

GLOBAL_NAME = "SITE_SEARCH_INDEX"

TITLE_WEIGHT = 20
HEADING_WEIGHT = 8
SUMMARY_WEIGHT = 6
BODY_WEIGHT_MAX = 4     # text words: 1 use -> 1, 2 -> 2, 3 to 5 -> 3, more -> 4 (below the other fields)

# The one table of Greek letters and their names (upper case folds to lower case first; variant forms
# such as ϵ ϑ ϕ and µ decompose to these).
GREEK_LETTERS = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta",
    "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi",
    "ο": "omicron", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon",
    "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
}
GREEK_NAMES = frozenset(GREEK_LETTERS.values())

# Very common English words: they would bloat the postings and never help find a page.
STOP_WORDS = tuple("""
a an and are as at be but by for from has have if in into is it its of on or so such than that the
their then there these this to was were which will with we our you your can not no do does done
""".split())
_STOP = frozenset(STOP_WORDS)

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_COMBINING = re.compile(r"[\u0300-\u036f]")
_WORD = re.compile(r"[a-z0-9]+")
_JOIN_GAP = re.compile(r"[\s_{]*")
_SPACES = re.compile(r"\s+")


def _fold_char(ch: str) -> str:
    folded = _COMBINING.sub("", unicodedata.normalize("NFKD", ch.lower()).lower())
    return "".join(f" {GREEK_LETTERS[c]} " if c in GREEK_LETTERS else c for c in folded)


def fold(text: str) -> str:
    """``text`` lower-cased, accent-free, Greek letters spelled out (the same folding the browser applies)."""
    return _NON_ASCII.sub(lambda m: _fold_char(m.group()), text).lower()


def fold_words(text: str) -> list[str]:
    """The words of ``text`` after `fold`, a Greek letter's name and the number after it joined."""
    folded, found = fold(text), []
    last_end = -1
    for match in _WORD.finditer(folded):
        word = match.group()
        if (found and word.isdigit() and found[-1] in GREEK_NAMES
                and _JOIN_GAP.fullmatch(folded, last_end, match.start())):
            found[-1] += word
        else:
            found.append(word)
        last_end = match.end()
    return found


def index_words(text: str) -> list[str]:
    """The words of ``text`` a search can find: `fold_words` less stop words and single characters."""
    return [w for w in fold_words(text) if len(w) > 1 and w not in _STOP]


# ---------- TeX -> readable text ----------

_TEX_GREEK = {name: letter for letter, name in GREEK_LETTERS.items() if letter != "ς"}
_TEX_GREEK.update({name.capitalize(): letter.upper() for name, letter in list(_TEX_GREEK.items())})
_TEX_GREEK.update(varepsilon="ε", vartheta="ϑ", varphi="φ", varpi="ϖ", varrho="ϱ", varsigma="ς",
                  varkappa="ϰ", epsilon="ε")
_TEX_SYMBOLS = {
    "leftarrow": "←", "gets": "←", "rightarrow": "→", "to": "→", "Leftarrow": "⇐", "Rightarrow": "⇒",
    "leftrightarrow": "↔", "iff": "⇔", "implies": "⇒", "mapsto": "↦", "uparrow": "↑", "downarrow": "↓",
    "cdot": "·", "times": "×", "div": "÷", "pm": "±", "mp": "∓", "ast": "∗", "star": "⋆", "circ": "∘",
    "odot": "⊙", "otimes": "⊗", "oplus": "⊕", "approx": "≈", "sim": "∼", "simeq": "≃", "cong": "≅",
    "equiv": "≡", "propto": "∝", "neq": "≠", "ne": "≠", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
    "ll": "≪", "gg": "≫", "in": "∈", "notin": "∉", "subset": "⊂", "subseteq": "⊆", "cup": "∪",
    "cap": "∩", "emptyset": "∅", "forall": "∀", "exists": "∃", "neg": "¬", "land": "∧", "lor": "∨",
    "wedge": "∧", "vee": "∨", "infty": "∞", "partial": "∂", "nabla": "∇", "sum": "∑", "prod": "∏",
    "int": "∫", "sqrt": "√", "ldots": "…", "dots": "…", "cdots": "⋯", "vdots": "⋮", "ddots": "⋱",
    "prime": "′", "top": "⊤", "bot": "⊥", "perp": "⊥", "mid": "|", "vert": "|", "Vert": "‖",
    "lVert": "‖", "rVert": "‖", "lvert": "|", "rvert": "|", "langle": "⟨", "rangle": "⟩",
    "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "ell": "ℓ", "hbar": "ℏ",
    "quad": " ", "qquad": " ", "lbrace": "{", "rbrace": "}", "colon": ":", "lt": "<", "gt": ">",
    "longleftarrow": "⟵", "longrightarrow": "⟶", "atop": " ",
}
_TEX_OPERATORS = frozenset("""
log ln exp sin cos tan sinh cosh tanh arg max min sup inf lim det dim ker sgn Pr mod bmod
""".split())
_TEX_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0304",
                "tilde": "\u0303", "widetilde": "\u0303", "dot": "\u0307", "ddot": "\u0308",
                "check": "\u030c", "breve": "\u0306", "vec": "\u20d7"}
_TEX_KEEP_ARGUMENT = frozenset("""
mathbf mathrm mathit mathsf mathtt mathcal mathbb mathfrak mathscr boldsymbol bm pmb text textrm textbf
textit texttt textsf textnormal operatorname mathop mathbin mathrel mbox hbox underline overbrace
underbrace overrightarrow overleftarrow
""".split())
_TEX_DROP_ARGUMENT = frozenset("label tag ref eqref hspace vspace color".split())
_TEX_ESCAPES = {",": " ", ";": " ", ":": " ", " ": " ", "!": "", "\\": " ", "{": "{", "}": "}",
                "|": "‖", "%": "%", "$": "$", "_": "_", "&": "&", "#": "#"}
_TEX_NAME = re.compile(r"[A-Za-z]+")
_SIMPLE = re.compile(r"[\w.′\u0300-\u036f]+|\S|√?\([^()]*\)")


class _Tex:
    """A small reader of TeX source that writes what it means as plain text (not a TeX implementation:
    unknown commands are left out, their arguments kept)."""

    def __init__(self, source: str):
        self.src, self.i = source, 0

    def command(self) -> str:
        match = _TEX_NAME.match(self.src, self.i)
        if match:
            self.i = match.end()
            return match.group()
        name = self.src[self.i:self.i + 1]
        self.i += 1
        return name

    def argument(self) -> str:
        """One argument: a braced group, a command or a character."""
        while self.i < len(self.src) and self.src[self.i].isspace():
            self.i += 1
        if self.i >= len(self.src):
            return ""
        ch = self.src[self.i]
        if ch == "{":
            self.i += 1
            return self.run("}")
        if ch == "\\":
            self.i += 1
            return self.expand(self.command())
        self.i += 1
        return ch

    def optional(self) -> str:
        if self.src.startswith("[", self.i):
            end = self.src.find("]", self.i)
            if end > 0:
                text, self.i = self.src[self.i + 1:end], end + 1
                return text
        return ""

    def expand(self, name: str) -> str:
        if name in _TEX_GREEK:
            return _TEX_GREEK[name]
        if len(name) == 1 and not name.isalpha():
            return _TEX_ESCAPES.get(name, name)
        if name in ("frac", "dfrac", "tfrac", "cfrac"):
            top, bottom = self.argument(), self.argument()
            return f"{_wrap(top)}/{_wrap(bottom)}"
        if name == "sqrt":
            degree = self.optional()
            return (degree if degree else "") + "√" + _wrap(self.argument())
        if name in _TEX_ACCENTS:
            body = self.argument()
            return body + _TEX_ACCENTS[name] if len(body) == 1 else body
        if name in _TEX_KEEP_ARGUMENT:
            return self.argument()
        if name in ("textcolor", "colorbox"):
            self.argument()
            return self.argument()
        if name in ("underset", "overset"):
            script = self.argument().strip()
            script = script if len(script) == 1 else "{" + script + "}"
            return self.argument().strip() + ("_" if name == "underset" else "^") + script
        if name in ("begin", "end") or name in _TEX_DROP_ARGUMENT:
            self.argument()
            return " "
        if name in _TEX_SYMBOLS:
            return _TEX_SYMBOLS[name]
        if name in _TEX_OPERATORS:
            return f" {name} "
        return ""   # \left, \right, \big, \nonumber, \displaystyle, ... and unknown commands

    def run(self, until: str = "") -> str:
        out: list[str] = []
        src = self.src
        while self.i < len(src):
            ch = src[self.i]
            if until and ch == until:
                self.i += 1
                break
            if ch == "\\":
                self.i += 1
                out.append(self.expand(self.command()))
            elif ch in "_^":
                self.i += 1
                body = self.argument().strip()
                out.append(ch + (body if len(body) == 1 else "{" + body + "}") if body else ch)
            elif ch == "{":
                self.i += 1
                out.append(self.run("}"))
            elif ch in "&~":
                self.i += 1
                out.append(" " if ch == "~" else "")
            else:
                self.i += 1
                out.append(ch)
        return "".join(out)


def _wrap(text: str) -> str:
    text = text.strip()
    return text if _SIMPLE.fullmatch(text) else f"({text})"


def tex_to_text(tex: str) -> str:
    """Readable text of an equation's TeX: ``\\hat{m}_t \\leftarrow \\frac{m_t}{1-\\beta_1^t}`` ->
    ``m̂_t ← m_t/(1-β_1^t)``."""
    return _SPACES.sub(" ", _Tex(tex).run()).strip()


# TeX left in the text (the notes' equations arrive readable already, see utils/render_markdown.py).
_DISPLAY_MATH = re.compile(r"\$\$(.*?)\$\$|(\\begin\{(\w+\*?)\}.*?\\end\{\3\})|\\\[(.*?)\\\]", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?=[^\s$\d])((?:[^$\\\n]|\\.)+?)(?<=\S)\$(?!\d)")
_TEX_COMMAND = re.compile(r"\\[A-Za-z]+")


def readable_math(text: str) -> str:
    """``text`` with the TeX in it (``$...$``, ``$$...$$``, environments, ``\\commands``) made readable."""
    text = _DISPLAY_MATH.sub(lambda m: " " + tex_to_text(next(g for g in m.group(1, 2, 4) if g is not None))
                             + " ", text)
    text = _INLINE_MATH.sub(lambda m: tex_to_text(m.group(1)), text)
    return _TEX_COMMAND.sub(lambda m: tex_to_text(m.group()) or " ", text)


# ---------- the index ----------

_SPACE_BEFORE = re.compile(r" (?=[,.;:!?)\]])")
_SPACE_AFTER = re.compile(r"(?<=[(\[]) ")


def _text(text: str, heading: str) -> str:
    # The notes' text comes in pieces joined by spaces ("step t , learning"): no space before , . ) or after (.
    text = _SPACE_AFTER.sub("", _SPACE_BEFORE.sub("", _SPACES.sub(" ", text).strip()))
    # The heading is shown on its own; do not repeat it at the start of the text.
    if heading and text.startswith(heading):
        text = text[len(heading):].lstrip(" :.-")
    return text


def page_search_docs(page: Mapping) -> list[list]:
    """One page's entries: [[section anchor, heading, text(, [more headings])], ...]. A page's entries
    depend on that page alone, so a build keeps them, serialised, with the page (`page_search_json`)."""
    docs: list[list] = []
    for position, section in enumerate(page.get("sections", [])):
        headings = [str(h).strip() for h in section.get("headings", []) if str(h).strip()]
        text = readable_math(str(section.get("notes_text", "")))
        if position > 0 and not headings and not index_words(text):
            continue
        heading = headings[0] if headings else ""
        # The first section is the top of the page: it links the page itself.
        anchor = "" if position == 0 else str(section["id"])
        docs.append([anchor, heading, _text(text, heading)] + ([headings[1:]] if len(headings) > 1 else []))
    return docs


def _body_weight(count: int) -> int:
    return 1 if count == 1 else 2 if count == 2 else 3 if count < 6 else BODY_WEIGHT_MAX


def entry_terms(entry: list, title: str = "", summary: str = "") -> dict[str, int]:
    """{term: weight} of one entry, as the browser computes them (`invert` in site.js); ``title`` and
    ``summary`` are the page's, given for the page top only."""
    counts: dict[str, int] = {}
    for word in index_words(entry[2]):
        counts[word] = counts.get(word, 0) + 1
    weights = {word: _body_weight(count) for word, count in counts.items()}
    for field, weight in ((summary, SUMMARY_WEIGHT), (" ".join([entry[1]] + (entry[3] if len(entry) > 3 else [])),
                                                      HEADING_WEIGHT), (title, TITLE_WEIGHT)):
        for word in index_words(field):
            weights[word] = max(weights.get(word, 0), weight)
    return weights


def page_search_json(docs: list) -> str:
    """One page's entries (`page_search_docs`) as the JSON that `search_index_script` joins."""
    return json.dumps(docs, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def fold_data() -> dict:
    """What the browser needs to fold words as `fold_words` does, and the fields' weights."""
    return {"fold": {"greek": GREEK_LETTERS, "stop": " ".join(STOP_WORDS)},
            "weights": {"title": TITLE_WEIGHT, "heading": HEADING_WEIGHT, "summary": SUMMARY_WEIGHT}}


def _page(page: Mapping) -> list:
    summary = _SPACES.sub(" ", str(page.get("summary") or "")).strip()
    return [str(page.get("title", "")), str(page["url"]), page_search_docs(page)] + ([summary] if summary else [])


def build_search_index_data(pages: Iterable[Mapping]) -> dict:
    """The index as plain data (see the module docstring for its shape)."""
    return dict(fold_data(), pages=[_page(page) for page in pages])


def build_search_index(pages: Iterable[Mapping]) -> str:
    """JavaScript source setting ``window.SITE_SEARCH_INDEX``; deterministic for the same pages."""
    return search_index_script((page.get("title", ""), page["url"], page_search_json(page_search_docs(page)),
                                page.get("summary") or "") for page in pages)


def search_index_script(pages: Iterable[tuple]) -> str:
    """The index file from (title, url, page_search_json(...)[, summary]) of every page, in site order."""
    def dumps(value) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    entries = []
    for title, url, docs_json, *rest in pages:
        summary = _SPACES.sub(" ", str(rest[0] if rest else "") or "").strip()
        entries.append(f"[{dumps(str(title))},{dumps(str(url))},{docs_json}"
                       + (f",{dumps(summary)}]" if summary else "]"))
    header = dumps(fold_data())[:-1]   # the fold table and weights, then the pages
    return f'window.{GLOBAL_NAME}={header},"pages":[{",".join(entries)}]}};\n'
