r"""
---
title: SGD paths plot
summary: >
 Draws the paths of plain SGD, momentum and Nesterov momentum on an ill-conditioned quadratic, for the SGD page.
in_reading_order: false
---

# Plotting SGD paths

This script draws `sgd_paths.svg`, the figure on the [SGD](sgd.html) page. The function is the quadratic

$$f(x, y) = \frac{1}{2}\left(x^2 + \kappa y^2\right), \qquad \kappa = 50$$

whose valley is curved $\kappa$ times more sharply across ($y$) than along ($x$). All three paths start at
$(-10, 1)$ with $\eta = 0.025$ and are computed with the [`SGD`](sgd.html) class itself, so the figure cannot
drift from the code. Across the valley $\eta \kappa = 1.25 > 1$, so plain SGD overshoots in $y$ at first
(by a factor $1 - \eta\kappa = -0.25$ a step), then crawls along it, where each step removes only $\eta = 2.5\%$
of $x$. Momentum $\mu = 0.9$ adds up the steps along the valley: it overshoots and oscillates in both
directions, yet gets near the minimum in half the steps; Nesterov's correction damps the oscillation.
The legend gives the step after which $f$ stays below
$10^{-2}$ (it starts at $75$). Run it with `python -m labml_nn.optimizers.sgd_plot`.

As for the [RAdam plot](radam_plot.html), the SVG is byte-for-byte reproducible: matplotlib's random element
ids are seeded (`svg.hashsalt`) and the date is left out of the metadata.
"""

from pathlib import Path
from typing import Dict, Optional

import matplotlib

# No display is needed to draw to a file
matplotlib.use('Agg')

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from labml_nn.optimizers.sgd import SGD  # noqa: E402

# The figure sits next to the page that shows it
FIGURE_PATH = Path(__file__).with_name('sgd_paths.svg')
# $\kappa$, the curvature across the valley (it is $1$ along it)
KAPPA = 50.
START = (-10., 1.)
LR = 0.025
STEPS = 200
# The "minimum region": $f$ below this
THRESHOLD = 1e-2
# Steps drawn in the figure
DRAWN_STEPS = 80
# The runs: name and the SGD arguments besides `lr`
RUNS = {
    'SGD': dict(),
    'momentum 0.9': dict(momentum=0.9),
    'Nesterov 0.9': dict(momentum=0.9, nesterov=True),
}


def loss(xy: torch.Tensor) -> torch.Tensor:
    r"""$f(x, y) = \frac{1}{2}(x^2 + \kappa y^2)$ for points `xy[..., 0], xy[..., 1]`."""
    return 0.5 * (xy[..., 0] ** 2 + KAPPA * xy[..., 1] ** 2)


def sgd_path(steps: int = STEPS, **sgd_args) -> torch.Tensor:
    r"""The points $\theta_0, \dots, \theta_T$ visited by `SGD(lr=LR, **sgd_args)`, as a `(T + 1, 2)` tensor."""
    xy = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    optimizer = SGD([xy], lr=LR, **sgd_args)
    points = [xy.detach().clone()]
    for _ in range(steps):
        x, y = xy.detach()
        # $\nabla f = (x, \kappa y)$
        xy.grad = torch.stack([x, KAPPA * y])
        optimizer.step()
        points.append(xy.detach().clone())
    return torch.stack(points)


def steps_to_reach(path: torch.Tensor, threshold: float = THRESHOLD) -> Optional[int]:
    """The first step after which $f$ stays below `threshold`, or `None` if it does not get there."""
    below = loss(path) < threshold
    for t in range(len(path)):
        if bool(below[t:].all()):
            return t
    return None


def all_paths() -> Dict[str, torch.Tensor]:
    return {name: sgd_path(**args) for name, args in RUNS.items()}


def draw(path: Path = FIGURE_PATH) -> Path:
    """Draw the plot and write it to `path`."""
    # Fixed ids and no date: identical bytes on every run
    matplotlib.rcParams['svg.hashsalt'] = 'labml_nn.optimizers.sgd_plot'
    matplotlib.rcParams['svg.fonttype'] = 'path'

    fig, ax = plt.subplots(figsize=(7, 4))
    xs = torch.linspace(-11, 4, 151, dtype=torch.float64)
    ys = torch.linspace(-1.5, 1.5, 121, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing='xy'), dim=-1)
    ax.contour(xs.numpy(), ys.numpy(), loss(grid).numpy(), levels=[0.5, 2, 5, 10, 20, 40, 75],
               colors='lightgray', linewidths=0.8)
    for (name, points), style in zip(all_paths().items(), ('o-', 's-', '^-')):
        shown = points[:DRAWN_STEPS + 1].numpy()
        ax.plot(shown[:, 0], shown[:, 1], style, markersize=2.5, linewidth=1,
                label=f'{name}: $f < 10^{{-2}}$ after {steps_to_reach(points)} steps')
    ax.plot([0], [0], 'k*', markersize=10)
    ax.set_xlim(-11, 4)
    ax.set_ylim(-1.5, 1.5)
    ax.set_xlabel('$x$')
    ax.set_ylabel('$y$')
    ax.set_title(f'$f = (x^2 + {KAPPA:g} y^2)/2$, $\\eta = {LR}$, first {DRAWN_STEPS} steps')
    ax.legend(loc='upper right', fontsize='small')
    fig.tight_layout()
    fig.savefig(path, format='svg', metadata={'Date': None})
    plt.close(fig)
    return path


if __name__ == '__main__':
    print(f'Wrote {draw()}')
