"""The search index builder (utils/search_index.py): what gets indexed, how it is weighted, its size."""

import json

from utils.search_index import GLOBAL_NAME, build_search_index, build_search_index_data


def page(title, url, sections):
    return {"title": title, "url": url, "sections": [
        {"id": f"section-{i}", "notes_text": text, "headings": headings}
        for i, (text, headings) in enumerate(sections)]}


def parse(js: str) -> dict:
    prefix = f"window.{GLOBAL_NAME}="
    assert js.startswith(prefix) and js.endswith(";\n")
    return json.loads(js[len(prefix):-2])


def postings_of(data: dict, term: str) -> dict:
    """doc id -> weight for one term, decoding the gaps."""
    flat = data["postings"][data["terms"].index(term)]
    doc, out = 0, {}
    for gap, weight in zip(flat[::2], flat[1::2]):
        doc += gap
        out[doc] = weight
    return out


PAGES = [
    page("Adam optimizer", "optimizers/adam.html", [
        ("Adam keeps moving averages. $m_t \\leftarrow \\beta_1 m_{t-1}$", ["Adam"]),
        ("Bias correction divides by $1-\\beta_1^t$ so early steps are not too small.", ["Bias correction"]),
    ]),
    page("Rectified Adam (RAdam)", "optimizers/radam.html", [
        ("RAdam adds a rectification term. \\begin{align}r_t &= \\frac{a}{b}\\end{align} It costs $5 or $10.", []),
        ("", []),   # nothing to index: dropped
    ]),
]


def test_index_is_a_script_setting_a_global_and_is_deterministic():
    first, second = build_search_index(PAGES), build_search_index(PAGES)
    assert first == second
    data = parse(first)
    assert set(data) == {"pages", "docs", "terms", "postings"}
    assert data["terms"] == sorted(data["terms"])


def test_titles_headings_and_prose_are_indexed_and_tex_is_not():
    data = build_search_index_data(PAGES)
    for word in ("adam", "rectification", "bias", "correction", "averages", "rectified", "costs"):
        assert word in data["terms"], word
    for tex_word in ("leftarrow", "beta", "frac", "align"):
        assert tex_word not in data["terms"], tex_word
    assert "the" not in data["terms"] and "are" not in data["terms"]   # stop words


def test_docs_link_sections_and_the_first_section_links_the_page():
    data = build_search_index_data(PAGES)
    pages, docs = data["pages"], data["docs"]
    assert pages == [["Adam optimizer", "optimizers/adam.html"], ["Rectified Adam (RAdam)", "optimizers/radam.html"]]
    assert [(d[0], d[1], d[2]) for d in docs] == [(0, "", "Adam"), (0, "section-1", "Bias correction"), (1, "", "")]
    (radam_doc,) = postings_of(data, "rectification")
    assert docs[radam_doc][0] == 1
    # The heading is not repeated at the start of its snippet.
    assert docs[1][3].startswith("divides by")


def test_a_word_in_the_title_outweighs_a_heading_which_outweighs_prose():
    data = build_search_index_data(PAGES)
    title = postings_of(data, "optimizer")[0]       # only in the Adam page's title
    heading = postings_of(data, "correction")[1]     # in a heading (and its prose)
    prose = postings_of(data, "divides")[1]          # only in prose
    assert title > heading > prose


def test_index_is_much_smaller_than_the_text_it_covers():
    text = " ".join(f"word{i % 150} explains the gradient step {i % 7}" for i in range(300))
    many = [page(f"Page {n}", f"p{n}.html", [(text, [f"Heading {n}"])] * 4) for n in range(20)]
    size = len(build_search_index(many).encode("utf-8"))
    covered = sum(len(s["notes_text"]) for p in many for s in p["sections"])
    assert size < covered / 5, (size, covered)
