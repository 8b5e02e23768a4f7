"""Markdown and math collection (utils/render_markdown.py) and MathJax typesetting (utils/typeset_math.py)."""
from types import SimpleNamespace

import pytest

from utils.highlight_code import highlight_fenced_code
from utils.render_markdown import parse_notes, render_notes
from utils.typeset_math import MathTypesetter


def render(text: str, first_line: int = 1, used_ids=None, math_html=None, highlight=None):
    """Parse and render notes; each equation is drawn as `[MATH i]` unless `math_html` says otherwise."""
    lines = list(range(first_line, first_line + text.count("\n") + 1))
    parsed = parse_notes(text, lines, set() if used_ids is None else used_ids)
    filled = math_html if math_html is not None else [f"[MATH {i}]" for i in range(len(parsed.maths))]
    return SimpleNamespace(maths=parsed.maths, links=parsed.links, headings=parsed.headings,
                           anchors=parsed.anchors, html=render_notes(parsed, filled, highlight))


def test_dollar_amounts_stay_text():
    notes = render("It costs $5 and $10, or $20 in total.")
    assert notes.maths == []
    assert "$5 and $10, or $20" in notes.html


def test_inline_display_and_bare_align_math_are_collected_unchanged_and_filled_by_render_rules():
    text = ("Inline $\\frac{a}{b}$ here.\n\n$$\n\\hat{m}_t = \\textcolor{red}{m_t}\n$$\n\n"
            "\\begin{align}\na &= \\vert b \\vert \\\\\nc &= d\n\\end{align}\n")
    notes = render(text, first_line=10, math_html=["<i>A</i>", "<i>B</i>", "<i>C</i>"])
    assert [(m.tex, m.display, m.line) for m in notes.maths] == [
        ("\\frac{a}{b}", False, 10),
        ("\n\\hat{m}_t = \\textcolor{red}{m_t}\n", True, 12),
        ("\\begin{align}\na &= \\vert b \\vert \\\\\nc &= d\n\\end{align}", True, 16),
    ]
    assert "\\frac" not in notes.html and "\\begin" not in notes.html
    assert "Inline <i>A</i> here." in notes.html
    assert "<i>B</i>" in notes.html and "<i>C</i>" in notes.html


def test_inline_math_lines_count_the_line_breaks_before_it():
    text = "First line\nsecond $a$ line\n[link](x.py) then\n\n$$\nb\n$$\nthird $c$\n"
    notes = render(text, first_line=20)
    assert [(m.tex, m.line) for m in notes.maths] == [("a", 21), ("\nb\n", 24), ("c", 27)]
    assert [(l.target, l.line) for l in notes.links] == [("x.html", 22)]


def test_source_file_links_point_at_their_pages_and_are_reported_with_lines():
    notes = render("Intro\n\nSee [RAdam](radam.py), [home](../__init__.py#top) and [notes](readme.md).\n"
                   "[Folder](sub/) [site](https://example.org/x.py)", 5)
    assert 'href="radam.html"' in notes.html
    assert 'href="../index.html#top"' in notes.html
    assert 'href="readme.html"' in notes.html
    assert [(l.target, l.line) for l in notes.links] == [
        ("radam.html", 7), ("../index.html#top", 7), ("readme.html", 7), ("sub/index.html", 8),
        ("https://example.org/x.py", 8)]


def test_raw_html_anchors_and_links_are_collected():
    notes = render('<a id="PrepareMHA"></a>\n\nText <a name=\'top\'></a> and <img src="fig.png">\n')
    assert notes.anchors == ["PrepareMHA", "top"]
    assert [(l.target, l.line) for l in notes.links] == [("fig.png", 3)]


def test_headings_get_unique_ids_that_avoid_section_ids():
    used = {"section-0"}
    first = render("# Update rule\n\n## Section 0", used_ids=used)
    second = render("# Update rule", 9, used_ids=used)
    assert [h.id for h in first.headings] == ["update-rule", "section-0-2"]
    assert [h.id for h in second.headings] == ["update-rule-2"]
    assert '<h1 id="update-rule">' in first.html


def test_fenced_code_in_notes_is_highlighted_by_the_fence_rule():
    notes = render("Before\n\n```python\nx = compute(1)\n```\n\n- item\n\n  ```bash\n  ls -l\n  ```\n",
                   highlight=highlight_fenced_code)
    assert '<pre class="highlight"><code class="language-python">' in notes.html
    assert '<span class="n">compute</span>' in notes.html
    assert '<li>' in notes.html and '<code class="language-bash">' in notes.html


def test_old_placeholder_bytes_in_prose_are_only_text():
    notes = render("Odd \x02" "0\x03 bytes and \x040\x05 here, then $x$.", math_html=["<i>X</i>"])
    assert notes.html.count("<i>X</i>") == 1
    assert "\x02" "0\x03" in notes.html and "\x040\x05" in notes.html


@pytest.fixture(scope="module")
def typesetter(tmp_path_factory):
    setter = MathTypesetter(tmp_path_factory.mktemp("math-cache"))
    yield setter
    setter.close()


def test_mathjax_typesets_required_macros_to_commonhtml_with_assistive_mathml(typesetter):
    requests = [("\\textcolor{red}{x} + \\hat{\\beta}_1", False), ("\\frac{a}{b}", True),
                ("\\begin{align}a &= \\vert b \\vert\\end{align}", True)]
    results = typesetter.typeset(requests)
    for request in requests:
        ok, html = results[request]
        assert ok, html
        assert 'jax="CHTML"' in html and "<mjx-assistive-mml" in html and "<math" in html
        assert "merror" not in html
    assert 'display="true"' in results[requests[1]][1]


def test_invalid_tex_returns_mathjax_message(typesetter):
    results = typesetter.typeset([("\\frac{a}{", False), ("\\notamacro x", False)])
    assert results[("\\frac{a}{", False)] == (False, "Missing close brace")
    assert results[("\\notamacro x", False)] == (False, "Undefined control sequence \\notamacro")


def test_math_cache_persists_across_typesetters(tmp_path):
    first = MathTypesetter(tmp_path)
    html = first.typeset([("x^2", False)])[("x^2", False)]
    first.close()
    second = MathTypesetter(tmp_path)
    assert second.typeset([("x^2", False)])[("x^2", False)] == html
    assert second.typeset_count == 0          # answered from the cache, no worker started
    assert second._worker is None
    second.close()


def test_a_worker_that_died_is_replaced_on_the_next_request(tmp_path):
    setter = MathTypesetter(tmp_path)
    setter.submit([("a^2", False)])
    setter._worker.kill()                     # e.g. killed by the OOM killer between two rebuilds of `serve`
    setter._worker.wait()
    ok, html = setter.typeset([("a^2", False)])[("a^2", False)]
    assert ok and "<mjx-container" in html
    setter.close()


def test_a_worker_that_cannot_start_is_reported_with_its_error(tmp_path, monkeypatch):
    import utils.typeset_math as typeset_math

    broken = tmp_path / "broken_worker.js"
    broken.write_text("throw new Error('MathJax could not load');\n")
    monkeypatch.setattr(typeset_math, "WORKER", broken)
    setter = MathTypesetter(tmp_path / "cache")
    with pytest.raises(typeset_math.MathJaxUnavailable, match="MathJax could not load"):
        setter.typeset([("b^2", False)])
    setter.close()


def _data_tex(html_text: str) -> list:
    """The data-tex values of the .math elements in some HTML, as a browser would read them."""
    from html.parser import HTMLParser

    found = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if "math" in (attrs.get("class") or "").split():
                found.append((tag, attrs.get("class"), attrs.get("data-tex")))

    Reader().feed(html_text)
    return found


def test_a_typeset_equation_keeps_its_tex_in_data_tex_with_quotes_angles_and_ampersands_escaped():
    from utils.render_markdown import Math, wrap_math

    tex = 'a < b & \\text{"q"} > c'
    inline = wrap_math(Math(tex=tex, display=False, line=1, in_paragraph=False), "<mjx-container></mjx-container>")
    assert inline == ('<span class="math inline" data-tex="a &lt; b &amp; \\text{&quot;q&quot;} > c">'
                      "<mjx-container></mjx-container></span>")
    assert _data_tex(inline) == [("span", "math inline", tex)]
    # Display TeX loses the blank lines around it ($$\n...\n$$) but keeps the lines inside it.
    block = "\n\\begin{align}\nx &= 1 \\\\\ny &< 2\n\\end{align}\n"
    display = wrap_math(Math(tex=block, display=True, line=1, in_paragraph=False), "<mjx-container></mjx-container>")
    assert _data_tex(display) == [("div", "math display", block.strip())]
    in_paragraph = wrap_math(Math(tex="x", display=True, line=1, in_paragraph=True), "")
    assert _data_tex(in_paragraph) == [("span", "math display", "x")]


def test_tex_in_data_tex_cannot_end_the_attribute_or_open_a_tag():
    from utils.render_markdown import tex_attribute

    for tex in ['" onclick="alert(1)', "</span><script>x</script>", "&quot; &amp;", "a'b"]:
        value = tex_attribute(tex)
        assert '"' not in value and "<" not in value
        assert _data_tex(f'<span class="math" data-tex="{value}"></span>') == [("span", "math", tex)]


def test_notes_text_for_search_keeps_its_equations_in_a_readable_form():
    from utils.search_index import index_words

    notes = "Decay rates $\\beta_1, \\beta_2$ and\n\n$$\\hat{v}_t \\leftarrow \\frac{v_t}{1-\\beta_2^t}$$\n\ncost $5."
    text = parse_notes(notes, list(range(1, 7)), set()).text
    assert "β_1, β_2" in text and "v̂_t ← v_t/(1-β_2^t)" in text and "$5" in text
    assert "beta2" in index_words(text)
