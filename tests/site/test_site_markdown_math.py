"""Markdown and math collection (utils/render_markdown.py) and MathJax typesetting (utils/typeset_math.py)."""
import pytest

from utils.highlight_code import highlight_fenced_code
from utils.render_markdown import fill_fences, fill_math, render_notes
from utils.typeset_math import MathTypesetter


def render(text: str, first_line: int = 1):
    return render_notes(text, list(range(first_line, first_line + text.count("\n") + 1)), set())


def test_dollar_amounts_stay_text():
    notes = render("It costs $5 and $10, or $20 in total.")
    assert notes.maths == []
    assert "$5 and $10, or $20" in notes.html


def test_inline_display_and_bare_align_math_are_collected_unchanged():
    text = ("Inline $\\frac{a}{b}$ here.\n\n$$\n\\hat{m}_t = \\textcolor{red}{m_t}\n$$\n\n"
            "\\begin{align}\na &= \\vert b \\vert \\\\\nc &= d\n\\end{align}\n")
    notes = render(text, first_line=10)
    assert [(m.tex, m.display, m.line) for m in notes.maths] == [
        ("\\frac{a}{b}", False, 10),
        ("\n\\hat{m}_t = \\textcolor{red}{m_t}\n", True, 12),
        ("\\begin{align}\na &= \\vert b \\vert \\\\\nc &= d\n\\end{align}", True, 16),
    ]
    assert "\\frac" not in notes.html and "\\begin" not in notes.html  # left as placeholders
    html = fill_math(notes.html, notes.maths, ["<i>A</i>", "<i>B</i>", "<i>C</i>"])
    assert '<span class="math inline"><i>A</i></span>' in html
    assert '<div class="math display"><i>B</i></div>' in html
    assert '<div class="math display"><i>C</i></div>' in html


def test_source_file_links_point_at_their_pages_and_are_reported_with_lines():
    notes = render("Intro\n\nSee [RAdam](radam.py), [home](../__init__.py#top) and [notes](readme.md).\n"
                   "[Folder](sub/) [site](https://example.org/x.py)", 5)
    assert 'href="radam.html"' in notes.html
    assert 'href="../index.html#top"' in notes.html
    assert 'href="readme.html"' in notes.html
    assert [(l.target, l.line) for l in notes.links] == [
        ("radam.html", 7), ("../index.html#top", 7), ("readme.html", 7), ("sub/index.html", 8),
        ("https://example.org/x.py", 8)]


def test_headings_get_unique_ids_that_avoid_section_ids():
    used = {"section-0"}
    first = render_notes("# Update rule\n\n## Section 0", [1, 2, 3], used)
    second = render_notes("# Update rule", [9], used)
    assert [h["id"] for h in first.headings] == ["update-rule", "section-0-2"]
    assert [h["id"] for h in second.headings] == ["update-rule-2"]
    assert '<h1 id="update-rule">' in first.html


def test_fenced_code_in_notes_is_left_for_pygments_and_highlighted_with_its_classes():
    notes = render("Before\n\n```python\nx = compute(1)\n```\n\n- item\n\n  ```bash\n  ls -l\n  ```\n")
    assert [(f.code, f.lang) for f in notes.fences] == [("x = compute(1)\n", "python"), ("ls -l\n", "bash")]
    html = fill_fences(notes.html, [highlight_fenced_code(f.code, f.lang) for f in notes.fences])
    assert '<pre class="highlight"><code class="language-python">' in html
    assert '<span class="n">compute</span>' in html
    assert '<li>' in html and '<code class="language-bash">' in html and "\x04" not in html


@pytest.fixture(scope="module")
def typesetter(tmp_path_factory):
    setter = MathTypesetter(tmp_path_factory.mktemp("math-cache"))
    yield setter
    setter.close()


def test_mathjax_typesets_required_macros_to_svg_with_assistive_mathml(typesetter):
    requests = [("\\textcolor{red}{x} + \\hat{\\beta}_1", False), ("\\frac{a}{b}", True),
                ("\\begin{align}a &= \\vert b \\vert\\end{align}", True)]
    results = typesetter.typeset(requests)
    for request in requests:
        ok, html = results[request]
        assert ok, html
        assert "<svg" in html and "<mjx-assistive-mml" in html and "<math" in html
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
    assert ok and "<svg" in html
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
