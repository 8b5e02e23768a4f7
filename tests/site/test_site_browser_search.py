"""Search in a real browser (Debian Chromium through Playwright): what it finds, in which order, and what a
result shows: the text around the match with the matched words marked, math in a readable form, and
Greek letters found by their names. Screenshot: test-artifacts/site/search-snippet.png.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from utils.search_index import GLOBAL_NAME, fold_words

DESKTOP = {"width": 1280, "height": 900}
ADAM_PAGE = "optimizers/adam.html"

# Each result: where it links, its title line, its snippet's text and the words marked in the snippet.
RESULTS_JS = """
() => Array.from(document.querySelectorAll("#search-results [role=option]")).map(item => {
  const snippet = item.querySelector(".result-snippet");
  return {
    path: new URL(item.querySelector("a").href).pathname,
    hash: new URL(item.querySelector("a").href).hash,
    title: item.querySelector(".result-title").textContent,
    snippet: snippet ? snippet.textContent : "",
    marks: snippet ? Array.from(snippet.querySelectorAll("mark")).map(m => m.textContent) : [],
  };
})
"""


def open_page(browser, site_server, path=ADAM_PAGE):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.goto(site_server + path, wait_until="load")
    return context, page, errors


def search(page, query: str) -> list[dict]:
    page.fill("form.search input", query)
    page.wait_for_selector("#search-results [role=option] a", timeout=5000)
    return page.evaluate(RESULTS_JS)


def on_adam_page(result: dict) -> bool:
    return result["path"].endswith("/" + ADAM_PAGE)


def test_a_result_shows_the_text_around_the_match_with_the_match_marked(browser, site_server, artifacts_dir):
    context, page, errors = open_page(browser, site_server)
    # "rearranged" is far into the Adam page's first section, well past what a snippet of its start shows.
    results = search(page, "rearranged")
    adam = next(r for r in results if on_adam_page(r))
    assert adam["marks"] == ["rearranged"], adam
    snippet = adam["snippet"]
    assert snippet.startswith("…") and not snippet.startswith("…Adam (Kingma"), snippet
    before, _, after = snippet.partition("rearranged")
    assert len(before) > 20 and len(after) > 40 and len(snippet) < 200, snippet   # text on both sides
    page_text = " ".join(page.inner_text("main").split())
    assert "cheaper, rearranged form" in snippet and "cheaper, rearranged form" in page_text
    page.screenshot(path=str(artifacts_dir / "search-snippet.png"))
    context.close()
    assert errors == [], errors


def test_bias_correction_ranks_the_adam_page_first(browser, site_server):
    context, page, errors = open_page(browser, site_server, "optimizers/index.html")
    results = search(page, "bias correction")
    assert on_adam_page(results[0]) and results[0]["hash"] == "", [r["path"] for r in results]
    assert {"bias", "correction"} <= {m.lower() for m in results[0]["marks"]}, results[0]
    context.close()
    assert errors == [], errors


def test_beta2_spelled_any_way_finds_the_adam_page_and_shows_the_math_readably(browser, site_server):
    context, page, errors = open_page(browser, site_server)
    for query in ("β2", "beta2", "beta 2", "β_2"):
        results = search(page, query)
        adam = [r for r in results if on_adam_page(r)]
        assert adam, (query, [r["path"] for r in results])
        # The snippet shows the equation (its TeX \beta_2 made readable), with β_2 marked.
        assert "β_2" in adam[0]["marks"], (query, adam[0])
        assert "\\beta" not in adam[0]["snippet"] and "$" not in adam[0]["snippet"], adam[0]
    context.close()
    assert errors == [], errors


def test_a_title_match_ranks_above_a_heading_match_above_a_text_match(browser, site_server):
    context, page, errors = open_page(browser, site_server)
    results = search(page, "adam")
    assert on_adam_page(results[0]) and results[0]["hash"] == "", results[0]   # "Adam" is its title
    # A word in no title: results that match both words come before those that match one.
    results = search(page, "rectification variance")
    assert results[0]["path"].endswith("/optimizers/radam.html"), [r["path"] for r in results]
    # Some of the words matching is still a result (after any that match all of them).
    alone = [(r["path"], r["hash"]) for r in search(page, "rectification")]
    assert [(r["path"], r["hash"]) for r in search(page, "rectification qqzzq")] == alone
    context.close()
    assert errors == [], errors


def test_the_browser_folds_words_as_the_index_builder_does(browser, site_server, built_site):
    context, page, errors = open_page(browser, site_server)
    search(page, "adam")   # loads the index, and with it the fold table
    index_js = (built_site / "search-index.js").read_text(encoding="utf-8")
    data = json.loads(index_js[len(f"window.{GLOBAL_NAME}="):-2])
    samples = ["β2", "beta 2", "β_2", "\\beta_{2}", "𝛽₂ and αβ", "Naïve ﬁt, ϵ-greedy", "Σ_i σ_i² ς", "İstanbul",
               "x_beta_2 alpha2x beta 2 3 betabeta 2 beta 2x β β2 alphabet_1 {eta}_{1}",
               "constructor 2 toString_1 __proto__ 3"]   # names every JavaScript object has
    samples += [text for page_entry in data["pages"] for entry in page_entry[2] for text in entry[1:3]]
    samples += [text for page_entry in data["pages"] for text in [page_entry[0]] + page_entry[3:]]
    # `words` folds the index's text, `scannedWords` the text a snippet marks: both as the builder does.
    for function in ("words", "scannedWords"):
        in_browser = page.evaluate(f"texts => texts.map(t => window.siteSearch.{function}(t))", samples)
        mismatched = [(text, js, fold_words(text)) for text, js in zip(samples, in_browser) if js != fold_words(text)]
        assert not mismatched, (function, mismatched[:5])
    context.close()
    assert errors == [], errors


def test_results_link_their_section(browser, site_server):
    context, page, errors = open_page(browser, site_server)
    results = search(page, "optimized_update")
    assert any(on_adam_page(r) and r["hash"].startswith("#") for r in results), results
    assert all(urlsplit(r["path"]).path.endswith(".html") for r in results)
    context.close()
    assert errors == [], errors
