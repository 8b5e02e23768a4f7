r"""
---
title: RAdam rectification plot
summary: >
 Draws the RAdam rectification term r_t against the step t, for the RAdam page.
in_reading_order: false
---

# Plotting RAdam's rectification term

This script draws `radam_r_t.svg`, the figure on the [RAdam](radam.html) page. It evaluates
$r_t$ with the same function the optimizer uses (`rectification` in `radam.py`), so the
figure cannot drift from the code. Run it with `make figures`
(`python -m labml_nn.optimizers.radam_plot`).

The SVG is byte-for-byte reproducible: matplotlib's random element ids are seeded
(`svg.hashsalt`) and the date is left out of the metadata, so re-running it does not change the
committed file unless the plot changes.
"""

from pathlib import Path
from typing import List, Optional, Sequence

import matplotlib

# No display is needed to draw to a file
matplotlib.use('Agg')

import matplotlib.pyplot as plt  # noqa: E402

from labml_nn.optimizers.radam import RHO_THRESHOLD, rectification  # noqa: E402

# The figure sits next to the page that shows it
FIGURE_PATH = Path(__file__).with_name('radam_r_t.svg')
# $\beta_2$ values to plot; $0.999$ is the usual default
BETA2_VALUES = (0.99, 0.995, 0.999)
# Steps $t = 1, \dots, T$
MAX_STEP = 10000


def r_t_curve(beta2: float, steps: Sequence[int]) -> List[Optional[float]]:
    r"""$r_t$ for each step; `None` where $\rho_t \le 5$ and the update falls back to SGD."""
    return [rectification(beta2, t) for t in steps]


def draw(path: Path = FIGURE_PATH) -> Path:
    """Draw the plot and write it to `path`."""
    # Fixed ids and no date: identical bytes on every run
    matplotlib.rcParams['svg.hashsalt'] = 'labml_nn.optimizers.radam_plot'
    matplotlib.rcParams['svg.fonttype'] = 'path'

    steps = list(range(1, MAX_STEP + 1))
    fig, ax = plt.subplots(figsize=(7, 4))
    for beta2 in BETA2_VALUES:
        r = r_t_curve(beta2, steps)
        # Steps where the rectified update is used
        rectified = [(t, v) for t, v in zip(steps, r) if v is not None]
        ax.plot([t for t, _ in rectified], [v for _, v in rectified],
                label=f'$\\beta_2 = {beta2}$ (rectified from $t = {rectified[0][0]}$)')
    ax.set_xscale('log')
    ax.set_ylim(0, 1.05)
    ax.set_xlabel('step $t$')
    ax.set_ylabel('$r_t$')
    ax.set_title(f'RAdam rectification term (no curve while $\\rho_t \\leq {RHO_THRESHOLD:g}$: SGD steps)')
    ax.axhline(1.0, color='gray', linewidth=0.8, linestyle='--')
    ax.grid(True, which='major', alpha=0.3)
    ax.legend(loc='lower right')
    fig.tight_layout()
    fig.savefig(path, format='svg', metadata={'Date': None})
    plt.close(fig)
    return path


if __name__ == '__main__':
    print(f'Wrote {draw()}')
