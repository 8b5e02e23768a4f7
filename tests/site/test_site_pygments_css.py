"""The Pygments colour sheets: committed as generated, and every token readable on the code background."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from utils import pygments_css

STATIC = Path(__file__).resolve().parents[2] / "templates" / "static"
NAME_CLASSES = {"n", "nf", "nc", "nb", "bp", "nv", "na", "nn", "nx", "fm", "vm", "vc", "vg", "vi", "py", "nd"}


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two '#rrggbb' colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _palette(theme: str) -> dict[str, str]:
    """The custom properties of a theme as site.css sets them (light: the first :root block)."""
    css = (STATIC / "site.css").read_text(encoding="utf-8")
    start = css.index(":root {") if theme == "light" else css.index(':root[data-theme="dark"] {')
    block = css[start:css.index("}", start)]
    return dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})\b", block))


def _token_colours(sheet: str) -> dict[str, str]:
    """Short class -> colour of the rules the toggle-chosen (or only) theme applies."""
    colours = {}
    for selector_class, colour in re.findall(r"\) \.([\w-]+) \{ color: (#[0-9a-fA-F]{6})", sheet):
        colours.setdefault(selector_class, colour)
    return colours


def test_committed_sheets_are_what_the_generator_writes(tmp_path):
    pygments_css.write_theme_css(tmp_path)
    for name in ("pygments-light.css", "pygments-dark.css"):
        assert (STATIC / name).read_text(encoding="utf-8") == (tmp_path / name).read_text(encoding="utf-8"), (
            f"{name} is stale: run `python -m utils.pygments_css`")


@pytest.mark.parametrize("theme, sheet", [("light", pygments_css.light_css), ("dark", pygments_css.dark_css)])
def test_every_token_colour_reads_at_4_5_to_1_on_the_code_and_highlight_backgrounds(theme, sheet):
    palette = _palette(theme)
    code_bg, ident_bg = palette["--code-bg"], palette["--ident-bg"]
    colours = _token_colours(sheet())
    assert len(colours) > 40, colours
    poor = {}
    for short_class, colour in colours.items():
        backgrounds = [code_bg] + ([ident_bg] if short_class in NAME_CLASSES else [])
        worst = min(contrast(colour, background) for background in backgrounds)
        if worst < 4.5:
            poor[short_class] = f"{colour}: {worst:.2f}:1"
    assert not poor, f"{theme} code colours below 4.5:1: {poor}"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_line_numbers_and_muted_text_read_at_4_5_to_1(theme):
    palette = _palette(theme)
    assert contrast(palette["--line-number"], palette["--code-bg"]) >= 4.5
    for background in ("--bg", "--code-bg", "--docstring-bg"):
        assert contrast(palette["--muted"], palette[background]) >= 4.5, background
