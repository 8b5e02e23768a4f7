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


def entries(data: dict) -> list:
    """(page number, entry) of every entry, in site order, as the browser numbers its documents."""
    return [(number, entry) for number, (_, _, page_entries) in enumerate(data["pages"]) for entry in page_entries]


def terms_of(data: dict) -> set:
    return {term for _, entry in entries(data) for term in entry[3]}


def weights_of(data: dict, term: str) -> dict:
    """document number -> weight for one term."""
    return {doc: entry[3][term] for doc, (_, entry) in enumerate(entries(data)) if term in entry[3]}


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
    assert parse(first) == build_search_index_data(PAGES)   # the file holds exactly the data
    assert set(parse(first)) == {"pages"}


def test_titles_headings_and_prose_are_indexed_and_tex_is_not():
    data = build_search_index_data(PAGES)
    for word in ("adam", "rectification", "bias", "correction", "averages", "rectified", "costs"):
        assert word in terms_of(data), word
    for tex_word in ("leftarrow", "beta", "frac", "align"):
        assert tex_word not in terms_of(data), tex_word
    assert "the" not in terms_of(data) and "are" not in terms_of(data)   # stop words


def test_docs_link_sections_and_the_first_section_links_the_page():
    data = build_search_index_data(PAGES)
    pages, docs = data["pages"], entries(data)
    assert [p[:2] for p in pages] == [["Adam optimizer", "optimizers/adam.html"],
                                      ["Rectified Adam (RAdam)", "optimizers/radam.html"]]
    assert [(n, e[0], e[1]) for n, e in docs] == [(0, "", "Adam"), (0, "section-1", "Bias correction"), (1, "", "")]
    (radam_doc,) = weights_of(data, "rectification")
    assert docs[radam_doc][0] == 1
    # The heading is not repeated at the start of its snippet.
    assert docs[1][1][2].startswith("divides by")


def test_a_word_in_the_title_outweighs_a_heading_which_outweighs_prose():
    data = build_search_index_data(PAGES)
    title = weights_of(data, "optimizer")[0]       # only in the Adam page's title
    heading = weights_of(data, "correction")[1]     # in a heading (and its prose)
    prose = weights_of(data, "divides")[1]          # only in prose
    assert title > heading > prose


def test_index_is_much_smaller_than_the_text_it_covers():
    text = " ".join(f"word{i % 150} explains the gradient step {i % 7}" for i in range(300))
    many = [page(f"Page {n}", f"p{n}.html", [(text, [f"Heading {n}"])] * 4) for n in range(20)]
    size = len(build_search_index(many).encode("utf-8"))
    covered = sum(len(s["notes_text"]) for p in many for s in p["sections"])
    assert size < covered / 5, (size, covered)
