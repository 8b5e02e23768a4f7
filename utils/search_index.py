"""Build the site's full-text search index at build time.

The index covers page titles, section headings and prose. It is returned as JavaScript that sets
``window.SITE_SEARCH_INDEX``; the core build writes it to ``docs/search-index.js`` and the pages load
it with a ``<script>`` tag on first use of the search box, so search works offline and from
``file://``, where ``fetch()`` is blocked.

Shape (kept compact: an inverted index, not the full text)::

    {
      "pages":    [[page title, page url], ...],
      "docs":     [[page number, section anchor ("" for the page top), section heading, snippet], ...],
      "terms":    ["adam", "bias", ...],                 # sorted, so prefixes are one run
      "postings": [[gap, weight, gap, weight, ...], ...]  # per term: doc ids as gaps, with a weight
    }

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
    that page alone, so a build keeps them with the page and only merges them (`merge_search_docs`)."""
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


def merge_search_docs(pages: Iterable[tuple]) -> dict:
    """The index (see the module docstring) from (title, url, page_search_docs(...)) of every page."""
    page_list: list[list[str]] = []
    docs: list[list] = []
    weights: dict[str, dict[int, int]] = defaultdict(dict)
    for title, url, page_docs in pages:
        page_number = len(page_list)
        page_list.append([str(title), str(url)])
        for anchor, heading, snippet, term_weights in page_docs:
            doc_id = len(docs)
            docs.append([page_number, anchor, heading, snippet])
            for term, weight in term_weights.items():
                weights[term][doc_id] = weight
    terms = sorted(weights)
    postings = []
    for term in terms:
        flat: list[int] = []
        previous = 0
        for doc_id, weight in weights[term].items():  # doc ids were added in increasing order
            flat += [doc_id - previous, weight]
            previous = doc_id
        postings.append(flat)
    return {"pages": page_list, "docs": docs, "terms": terms, "postings": postings}


def build_search_index_data(pages: Iterable[Mapping]) -> dict:
    """The index as plain data (see the module docstring for its shape)."""
    return merge_search_docs((page.get("title", ""), page["url"], page_search_docs(page)) for page in pages)


def build_search_index(pages: Iterable[Mapping]) -> str:
    """JavaScript source setting ``window.SITE_SEARCH_INDEX``; deterministic for the same pages."""
    return search_index_script(build_search_index_data(pages))


def search_index_script(data: dict) -> str:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return f"window.{GLOBAL_NAME}={body};\n"
