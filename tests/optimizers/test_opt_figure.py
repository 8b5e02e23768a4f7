"""The RAdam r_t figure is drawn by code, reproducibly, from the function the optimizer uses."""

from pathlib import Path

import labml_nn.optimizers.radam as radam
from labml_nn.optimizers import radam_plot


def test_radam_figure_is_reproducible_byte_for_byte(tmp_path: Path):
    first = radam_plot.draw(tmp_path / 'a.svg').read_bytes()
    second = radam_plot.draw(tmp_path / 'b.svg').read_bytes()
    assert first == second
    assert first.startswith(b'<?xml') and b'<svg' in first
    assert b'<dc:date>' not in first


def test_radam_page_shows_the_committed_figure():
    assert radam_plot.FIGURE_PATH.exists()
    assert '(radam_r_t.svg)' in radam.__doc__
    assert radam_plot.FIGURE_PATH.name == 'radam_r_t.svg'


def test_plotted_curve_is_the_optimizers_rectification():
    steps = list(range(1, 200))
    curve = radam_plot.r_t_curve(0.999, steps)
    assert curve == [radam.rectification(0.999, t) for t in steps]
    assert curve[:5] == [None] * 5 and all(0 < r < 1 for r in curve[5:])
