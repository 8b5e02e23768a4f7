"""Which text of the notes is math (utils/markdown_parser.py): the cases an author writes and means as TeX."""
from types import SimpleNamespace

import pytest

from utils.markdown_parser import make_parser
from utils.render_markdown import parse_notes, render_notes
from utils.split_sections import split_python

MATH_TYPES = {"math_inline", "math_inline_double", "math_block", "math_block_label", "amsmath"}
BLOCK_TYPES = {"bullet_list_open", "ordered_list_open", "heading_open", "blockquote_open", "hr",
               "code_block", "fence", "code_inline"}


def tokens(text: str):
    """Every token, nested ones included, in document order."""
    found = []

    def walk(token_list):
        for token in token_list:
            found.append(token)
            walk(token.children or [])

    walk(make_parser().parse(text))
    return found


def maths(text: str):
    return [(t.type, t.content) for t in tokens(text) if t.type in MATH_TYPES]


def structure(text: str):
    return [t.type for t in tokens(text) if t.type in BLOCK_TYPES]


def render(text: str, lines=None):
    """Parsed and rendered notes: `.maths` as parsed, `.html` with each equation drawn as `[MATH]`."""
    parsed = parse_notes(text, lines or list(range(1, text.count("\n") + 2)), set())
    return SimpleNamespace(maths=parsed.maths, html=render_notes(parsed, ["[MATH]"] * len(parsed.maths)))


@pytest.mark.parametrize("line", ["+ b", "- b", "* b", "1. b", "# b", "> b", " + b", "---"])
def test_display_block_opened_in_a_paragraph_keeps_lines_that_look_like_markdown(line):
    text = f"The norm is\n$$\\gamma a\n{line}\n+ \\beta$$\nwith learned parameters."
    assert maths(text) == [("math_inline_double", f"\\gamma a\n{line}\n+ \\beta")]
    assert structure(text) == []


def test_display_block_closed_by_a_line_starting_with_minus_keeps_it_in_the_math():
    text = "We get\n$$\nu = v\n - w\n$$\nso that"
    assert maths(text) == [("math_inline_double", "\nu = v\n - w\n")]
    assert structure(text) == []


def test_markdown_after_the_closing_double_dollar_is_markdown_again():
    text = "Sum\n$$a\n+ b$$ and then\n- a list item"
    assert maths(text) == [("math_inline_double", "a\n+ b")]
    assert structure(text) == ["bullet_list_open"]


def test_double_dollar_that_closes_an_earlier_opening_does_not_open_a_display_block():
    # the `$$` starting line 3 closes the one opened mid-line 1, so line 4 is a real list item, even
    # though a later line holds a `$$` that could have been read as the closing of a display block
    text = "where $$x\n= y\n$$ holds:\n- first\n- second, $$z$$ too"
    assert maths(text) == [("math_inline_double", "x\n= y\n"), ("math_inline_double", "z")]
    assert structure(text) == ["bullet_list_open"]


def test_unclosed_double_dollar_before_a_blank_line_leaves_the_list_alone():
    text = "Text\n$$a\n- b\n\nmore $$c$$"
    assert maths(text) == [("math_inline_double", "c")]
    assert structure(text) == ["bullet_list_open"]


def test_double_dollar_inside_a_paragraph_is_display_math_within_the_paragraph():
    text = "The loss $$L = \\sum_i x_i$$ is small, and\n$$\nM = N\n$$\nholds."
    assert maths(text) == [("math_inline_double", "L = \\sum_i x_i"), ("math_inline_double", "\nM = N\n")]
    notes = render(text)
    assert [(m.display, m.in_paragraph) for m in notes.maths] == [(True, True), (True, True)]
    assert notes.html.startswith("<p>") and notes.html.count("<p>") == 1


def test_double_dollar_on_its_own_lines_is_a_math_block_with_its_lines():
    text = "Intro\n\n$$\na = b\n+ c\n$$\n\nOutro"
    [block] = [t for t in tokens(text) if t.type in MATH_TYPES]
    assert (block.type, block.content, block.map) == ("math_block", "\na = b\n+ c\n", [2, 6])


def test_indented_align_in_a_comment_note_is_math():
    source = ("x = 1\n"
              "# Mix\n"
              "#\n"
              "#     \\begin{align}\n"
              "#     y &= \\alpha x \\\\\n"
              "#     z &= \\beta y\n"
              "#     \\end{align}\n"
              "#\n"
              "# with weights\n"
              "y = 2 * x\n")
    section = [s for s in split_python(source, "mix.py").sections if s.notes.strip()][0]
    [block] = [t for t in tokens(section.notes) if t.type in MATH_TYPES]
    assert block.type == "amsmath"
    assert block.content == "\\begin{align}\ny &= \\alpha x \\\\\nz &= \\beta y\n\\end{align}"
    assert block.map == [2, 5]
    notes = render(section.notes, section.notes_lines)
    assert [(m.display, m.line) for m in notes.maths] == [(True, 4)]
    assert "<pre>" not in notes.html


def test_indented_code_that_does_not_open_an_environment_stays_code():
    for text in ("Run\n\n    x = compute(1)\n    y = x + 2\n",
                 "Run\n\n    \\begin{align}\n    never closed\n",     # no \end{align}
                 "Run\n\n    \\begin{verbatim}\n    x\n    \\end{verbatim}\n"):  # not amsmath
        assert maths(text) == [], text
        assert structure(text) == ["code_block"], text


def test_space_before_closing_dollar_still_closes_inline_math():
    text = "If gated, $f(x W) \\otimes (x V + b) $ is the output."
    assert maths(text) == [("math_inline", "f(x W) \\otimes (x V + b) ")]


def test_space_after_opening_dollar_is_not_math():
    assert maths("A $ x$ here and a lone $ sign.") == []


def test_dollar_amounts_stay_text():
    for text in ("It costs $5 and $10.", "From $x $10 up", "Pay 5$ and 6$ now"):
        assert maths(text) == [], text
    notes = render("It costs $5 and $10.")
    assert notes.maths == [] and "$5 and $10" in notes.html


def test_inline_code_and_fences_are_never_math():
    text = ("Write `$x$` or `$$y$$` in code.\n\n"
            "```\n$$\na\n+ b\n$$\n\\begin{align}\nc\n\\end{align}\n```\n\n"
            "~~~tex\n$z$\n~~~\n")
    assert maths(text) == []
    assert structure(text) == ["code_inline", "code_inline", "fence", "fence"]


def test_display_math_inside_a_list_item_still_works():
    text = "- first\n  $$a\n  + b$$\n- second:\n\n  $$\n  c = d\n  $$\n- third"
    found = tokens(text)
    # (the plugin keeps the item's indentation inside a math_block: whitespace, nothing to TeX)
    assert [(t.type, " ".join(t.content.split())) for t in found if t.type in MATH_TYPES] == [
        ("math_inline_double", "a + b"), ("math_block", "c = d")]
    assert [t.type for t in found].count("list_item_open") == 3
    assert [t.type for t in found].count("bullet_list_open") == 1


def test_render_notes_uses_the_parser_that_finds_these_cases():
    notes = render("Before\n$$x\n- y$$\n\nthen $a + b $ done")
    assert [(m.tex, m.display) for m in notes.maths] == [("x\n- y", True), ("a + b ", False)]
    assert "<ul>" not in notes.html
