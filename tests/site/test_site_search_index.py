"""The search index builder (utils/search_index.py): what gets indexed, how it is weighted, its size."""

import json

from utils.search_index import GLOBAL_NAME, build_search_index, build_search_index_data, entry_terms


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


def terms(data: dict) -> list:
    """{term: weight} of every entry, in site order, as the browser derives them from the entries' text."""
    found = []
    for page in data["pages"]:
        summary = page[3] if len(page) > 3 else ""
        found += [entry_terms(entry, page[0], summary) if entry[0] == "" else entry_terms(entry)
                  for entry in page[2]]
    return found


def terms_of(data: dict) -> set:
    return {term for weights in terms(data) for term in weights}


def weights_of(data: dict, term: str) -> dict:
    """document number -> weight for one term."""
    return {doc: weights[term] for doc, weights in enumerate(terms(data)) if term in weights}


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
    assert set(parse(first)) == {"fold", "weights", "pages"}


def test_titles_headings_and_prose_are_indexed_and_tex_commands_are_not():
    data = build_search_index_data(PAGES)
    for word in ("adam", "rectification", "bias", "correction", "averages", "rectified", "costs", "beta1"):
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


def test_index_is_hardly_bigger_than_the_text_it_covers():
    # The entries carry their text (for snippets) and no word lists: the browser derives those.
    text = " ".join(f"word{i % 150} explains the gradient step {i % 7}" for i in range(300))
    many = [page(f"Page {n}", f"p{n}.html", [(text, [f"Heading {n}"])] * 4) for n in range(20)]
    size = len(build_search_index(many).encode("utf-8"))
    covered = sum(len(s["notes_text"]) for p in many for s in p["sections"])
    assert size < covered * 1.02 + 2000, (size, covered)


# ---------- Folding, Greek letters, math in the text, ranking data ----------

from utils.search_index import (  # noqa: E402
    GREEK_LETTERS, HEADING_WEIGHT, STOP_WORDS, SUMMARY_WEIGHT, TITLE_WEIGHT, fold_words, tex_to_text,
)


def test_greek_letters_their_names_tex_and_subscripts_fold_to_one_word():
    for spelling in ("β2", "beta2", "beta 2", "β_2", "β₂", "Beta_2", "Β2", "\\beta_{2}", "𝛽_2", "beta_{2}"):
        assert fold_words(spelling) == ["beta2"], spelling
    assert fold_words("αβ") == ["alpha", "beta"]            # each letter is a word of its own
    assert fold_words("ϵ and ε, ϑ, µ") == ["epsilon", "and", "epsilon", "theta", "mu"]   # variant forms
    assert fold_words("alphabet 2, β^2") == ["alphabet", "2", "beta", "2"]   # only a name, only a subscript
    assert fold_words("Naïve ﬁt") == ["naive", "fit"]


def test_every_greek_letter_has_a_name_and_a_tex_command_that_spells_it():
    assert len(set(GREEK_LETTERS)) == 25 and len(set(GREEK_LETTERS.values())) == 24   # σ and ς: sigma
    for letter, name in GREEK_LETTERS.items():
        assert fold_words(letter) == [name] == fold_words(letter.upper()) == fold_words(name.capitalize())
        if letter != "ς":
            assert tex_to_text("\\" + name) == letter, name


def test_the_index_file_carries_the_greek_table_stop_words_and_weights_the_browser_folds_with():
    data = parse(build_search_index(PAGES))
    assert data["fold"] == {"greek": GREEK_LETTERS, "stop": " ".join(STOP_WORDS)}
    assert data["weights"] == {"title": TITLE_WEIGHT, "heading": HEADING_WEIGHT, "summary": SUMMARY_WEIGHT}
    assert "β" in build_search_index(PAGES)   # written as UTF-8, not as \\u escapes


def test_tex_becomes_readable_text():
    assert tex_to_text(r"\hat{m}_t \leftarrow \frac{m_t}{1-\beta_1^t}") == "m̂_t ← m_t/(1-β_1^t)"
    assert tex_to_text(r"\theta_t \leftarrow \theta_{t-1} - \eta \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}") \
        == "θ_t ← θ_{t-1} - η m̂_t/(√v̂_t + ε)"
    assert tex_to_text(r"\begin{align}r_t &= \frac{a}{b} \\ \mathbb{E}\left[x\right] &\approx 0\end{align}") \
        == "r_t = a/b E[x] ≈ 0"
    assert tex_to_text(r"\operatorname{clip}(x) \cdot \log \sigma") == "clip(x) · log σ"
    # A colour's name is not text; \Big and other sizes are dropped.
    assert tex_to_text(r"\textcolor{lightgreen}{x_t} \underset{\theta}{\min} \Big( a \lt b \Big)") \
        == "x_t min_θ ( a < b )"


def test_an_entry_carries_its_whole_text_tidied_for_snippets():
    long_text = "Start. " + "filler words here " * 40 + "the rare needle is at the end."
    data = build_search_index_data([page("P", "p.html", [(long_text, []), ("Step t , rate ( see $\\eta$ ) .", ["H"])])])
    top, section = data["pages"][0][2]
    assert top[2].endswith("the rare needle is at the end.") and "needle" in terms_of(data)
    assert section[2] == "Step t, rate (see η)."


def test_ranking_data_title_over_heading_over_summary_over_text_and_text_weights_stay_below():
    assert TITLE_WEIGHT > HEADING_WEIGHT > SUMMARY_WEIGHT > entry_terms(["", "", "word " * 500])["word"]


def test_a_page_whose_summary_names_the_query_outweighs_one_that_only_mentions_it_more():
    pages = [
        {"title": "AdaBelief optimizer", "url": "ada_belief.html", "summary": "Adam that scales the step by belief.",
         "sections": [{"id": "s0", "headings": ["AdaBelief"],
                       "notes_text": "With bias correction the first step ... after bias correction it is ..."}]},
        {"title": "Adam optimizer", "url": "adam.html", "summary": "Moving averages and bias correction.",
         "sections": [{"id": "s0", "headings": ["Adam"], "notes_text": "Dividing by it (bias correction) removes it."}]},
    ]
    data = build_search_index_data(pages)
    belief, adam = terms(data)
    assert adam["bias"] + adam["correction"] > belief["bias"] + belief["correction"]
    assert data["pages"][1][3] == "Moving averages and bias correction."
