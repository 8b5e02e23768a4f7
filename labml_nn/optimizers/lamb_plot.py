r"""
---
title: LAMB trust ratio plot
summary: >
 Trains a small MLP with LAMB and draws the trust ratio of each layer over the first steps, for the LAMB page.
in_reading_order: false
---

# Plotting LAMB's trust ratios

This script draws `lamb_trust_ratio.svg`, the figure on the [LAMB](lamb.html) page. It trains a small
multi-layer perceptron on a fixed regression problem with the [`Lamb`](lamb.html) class itself and reads
the ratio $\frac{\phi(\|\theta\|)}{\|u_t\|}$ that each step used from the optimizer's state
(`state['trust_ratio']`), so the figure shows what the code does. Run it with
`python -m labml_nn.optimizers.lamb_plot`.

Everything is seeded and in `float64`, and, as in [`radam_plot.py`](radam_plot.html), matplotlib's element
ids are seeded (`svg.hashsalt`) and the date is left out, so re-running it gives the same file.
"""

from pathlib import Path
from typing import Dict, List

import matplotlib

# No display is needed to draw to a file
matplotlib.use('Agg')

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from labml_nn.optimizers.lamb import Lamb  # noqa: E402

# The figure sits next to the page that shows it
FIGURE_PATH = Path(__file__).with_name('lamb_trust_ratio.svg')
# Steps to record
STEPS = 60
# Learning rate $\eta$: each step moves a layer by this fraction of its (clamped) weight norm
LR = 1e-2


def make_model() -> nn.Module:
    """A small MLP, 16 inputs, two hidden layers of 64, one output; the same weights on every call."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                         nn.Linear(64, 1)).double()


def trust_ratios(steps: int = STEPS) -> Dict[str, List[float]]:
    """Train for `steps` steps; return the trust ratio of each parameter tensor at each step."""
    model = make_model()
    gen = torch.Generator().manual_seed(1)
    inputs = torch.randn(256, 16, generator=gen, dtype=torch.float64)
    targets = torch.sin(inputs[:, :1] * 2) + 0.5 * inputs[:, 1:2]
    optimizer = Lamb(model.parameters(), lr=LR)
    ratios: Dict[str, List[float]] = {name: [] for name, _ in model.named_parameters()}
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = ((model(inputs) - targets) ** 2).mean()
        loss.backward()
        optimizer.step()
        for name, param in model.named_parameters():
            ratios[name].append(optimizer.state[param]['trust_ratio'].item())
    return ratios


def draw(path: Path = FIGURE_PATH) -> Path:
    """Draw the plot and write it to `path`."""
    # Fixed ids and no date: identical bytes on every run
    matplotlib.rcParams['svg.hashsalt'] = 'labml_nn.optimizers.lamb_plot'
    matplotlib.rcParams['svg.fonttype'] = 'path'

    model = make_model()
    sizes = {name: param.numel() for name, param in model.named_parameters()}
    ratios = trust_ratios()
    steps = list(range(1, STEPS + 1))
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, values in ratios.items():
        ax.plot(steps, values, label=f'{name} ({sizes[name]} values)')
    ax.set_yscale('log')
    ax.set_xlabel('step $t$')
    ax.set_ylabel(r'trust ratio $\phi(\|\theta\|) \,/\, \|u_t\|$')
    ax.set_title(f'LAMB trust ratio per tensor of a 16-64-64-1 MLP ($\\eta = {LR:g}$)')
    ax.grid(True, which='major', alpha=0.3)
    ax.legend(loc='center left', bbox_to_anchor=(1.0, 0.5), fontsize='small')
    fig.tight_layout()
    fig.savefig(path, format='svg', metadata={'Date': None})
    plt.close(fig)
    return path


if __name__ == '__main__':
    print(f'Wrote {draw()}')
