"""Build the site's full-text search index at build time.

The index covers page titles, section headings and prose. It is returned as JavaScript that sets
``window.SITE_SEARCH_INDEX``; the core build writes it to ``docs/search-index.js`` and the pages load
it with a ``<script>`` tag on first use of the search box, so search works offline and from
``file://``, where ``fetch()`` is blocked.

Shape: each page's entries as the page alone gives them, so that a build serialises a page's part
once, when it prepares the page, and a rebuild only joins those strings (merging every page's terms on each
build was a tenth of a one-file rebuild of the labml-nn corpus)::

    {
      "pages": [[page title, page url, [
                  [section anchor ("" for the page top), section heading, snippet, {term: weight, ...}],
                  ...]],
                ...]
    }

The browser inverts it once, on the first search (``templates/static/site.js``): sorted terms, so that a
prefix is one run, each with its (document, weight) pairs.

A word in the page title weighs most, then one in a heading, then one in the prose (more uses count
a little more). Words are folded the same way as in ``templates/static/site.js``: lower case,
accents removed, runs of ASCII letters and digits.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import defaultdict
from typing import Iterable, Mapping

GLOBAL_NAME = "SITE_SEARCH_INDEX"

TITLE_WEIGHT = 20
HEADING_WEIGHT = 8
SNIPPET_CHARS = 120

# Very common English words: they would bloat the postings and never help find a page.
STOP_WORDS = frozenset("""
a an and are as at be but by for from has have if in into is it its of on or so such than that the
their then there these this to was were which will with we our you your can not no do does done
""".split())

# TeX left in the prose text (the contract allows either removing math or keeping its source).
_DISPLAY_MATH = re.compile(r"\$\$.*?\$\$|\\begin\{(\w+\*?)\}.*?\\end\{\1\}|\\\[.*?\\\]", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?=[^\s$\d])(?:[^$\\\n]|\\.)+?(?<=\S)\$(?!\d)")
_TEX_COMMAND = re.compile(r"\\[A-Za-z]+")
_WORD = re.compile(r"[a-z0-9]+")
_SPACES = re.compile(r"\s+")


def fold_words(text: str) -> list[str]:
    """Lower-case, accent-free ASCII words of ``text`` (the same folding the browser applies)."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _WORD.findall(folded)


def strip_math(text: str) -> str:
    """Prose without TeX: equations and ``\\commands`` are not words a reader searches for."""
    text = _DISPLAY_MATH.sub(" ", text)
    text = _INLINE_MATH.sub(" ", text)
    return _TEX_COMMAND.sub(" ", text)


def _index_words(text: str) -> list[str]:
    return [w for w in fold_words(text) if len(w) > 1 and w not in STOP_WORDS]


def _snippet(text: str, heading: str) -> str:
    text = _SPACES.sub(" ", text).strip()
    # The heading is shown on its own; do not repeat it as the start of the snippet.
    if heading and text.startswith(heading):
        text = text[len(heading):].lstrip(" :.-")
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = text.rfind(" ", 0, SNIPPET_CHARS)
    return text[: cut if cut > SNIPPET_CHARS // 2 else SNIPPET_CHARS].rstrip(" ,;:") + "…"


def page_search_docs(page: Mapping) -> list[list]:
    """One page's entries: [[section anchor, heading, snippet, {term: weight}], ...]. A page's entries depend on
    that page alone, so a build keeps them, serialised, with the page (`page_search_json`)."""
    title = str(page.get("title", ""))
    docs: list[list] = []
    for position, section in enumerate(page.get("sections", [])):
        headings = [str(h) for h in section.get("headings", []) if str(h).strip()]
        prose = strip_math(str(section.get("notes_text", "")))
        if position > 0 and not headings and not prose.strip():
            continue
        heading = headings[0] if headings else ""
        # The first section is the top of the page: it links the page itself.
        anchor = "" if position == 0 else str(section["id"])
        term_weights: dict[str, int] = {}
        counts: dict[str, int] = defaultdict(int)
        for word in _index_words(prose):
            counts[word] += 1
        for word, count in counts.items():
            term_weights[word] = 1 + round(math.log2(count))
        for text in headings:
            for word in _index_words(text):
                term_weights[word] = max(term_weights.get(word, 0), HEADING_WEIGHT)
        if position == 0:
            for word in _index_words(title):
                term_weights[word] = TITLE_WEIGHT
        docs.append([anchor, heading, _snippet(prose, heading), term_weights])
    return docs


def page_search_json(docs: list) -> str:
    """One page's entries (`page_search_docs`) as the JSON that `search_index_script` joins."""
    return json.dumps(docs, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def build_search_index_data(pages: Iterable[Mapping]) -> dict:
    """The index as plain data (see the module docstring for its shape)."""
    return {"pages": [[str(page.get("title", "")), str(page["url"]), page_search_docs(page)] for page in pages]}


def build_search_index(pages: Iterable[Mapping]) -> str:
    """JavaScript source setting ``window.SITE_SEARCH_INDEX``; deterministic for the same pages."""
    return search_index_script((page.get("title", ""), page["url"], page_search_json(page_search_docs(page)))
                               for page in pages)


def search_index_script(pages: Iterable[tuple]) -> str:
    """The index file from (title, url, page_search_json(...)) of every page, in site order."""
    def dumps(value) -> str:
        return json.dumps(str(value), ensure_ascii=False)

    entries = ",".join(f"[{dumps(title)},{dumps(url)},{docs_json}]" for title, url, docs_json in pages)
    return f'window.{GLOBAL_NAME}={{"pages":[{entries}]}};\n'
