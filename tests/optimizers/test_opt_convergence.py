"""Each optimizer minimizes the Rosenbrock function and a least-squares regression problem."""

import pytest
import torch

from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.adam_warmup import AdamWarmup
from labml_nn.optimizers.adam_warmup_cosine_decay import AdamWarmupCosineDecay
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.noam import Noam
from labml_nn.optimizers.radam import RAdam

ROSENBROCK_STEPS = 3000

# RAdam and rectified AdaBelief start with plain SGD steps (rho_t <= 5); with the step size that suits
# Adam, SGD on Rosenbrock's steep walls (gradients of several hundred) jumps away, so those runs skip them.
OPTIMIZERS = {
    'Adam': lambda p, **k: Adam(p, lr=2e-2, **k),
    'AMSGrad': lambda p, **k: AMSGrad(p, lr=2e-2, **k),
    'RAdam': lambda p, **k: RAdam(p, lr=2e-2, **k),
    'AdaBelief': lambda p, **k: AdaBelief(p, lr=2e-2, **k),
    'AdaBelief (not rectified)': lambda p, **k: AdaBelief(p, lr=2e-2, rectify=False, **k),
    'AdamWarmup': lambda p, **k: AdamWarmup(p, lr=2e-2, warmup=100, **k),
    'AdamWarmupCosineDecay': lambda p, **k: AdamWarmupCosineDecay(p, lr=5e-2, warmup=100,
                                                                  total_steps=ROSENBROCK_STEPS, **k),
    'Noam': lambda p, **k: Noam(p, lr=2.0, warmup=100, d_model=1, **k),
}
STARTS_WITH_SGD = {'RAdam', 'AdaBelief'}


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


@pytest.mark.parametrize('name', list(OPTIMIZERS))
def test_converges_on_rosenbrock(name):
    extra = dict(degenerate_to_sgd=False) if name in STARTS_WITH_SGD else {}
    xy = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    opt = OPTIMIZERS[name]([xy], **extra)
    start = rosenbrock(*xy.detach())
    for _ in range(ROSENBROCK_STEPS):
        x, y = xy.detach()
        # The gradient in closed form (faster than autograd for two numbers)
        xy.grad = torch.stack([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
        opt.step()
    x, y = xy.detach()
    assert rosenbrock(x, y) < 1e-3 * start
    assert abs(x - 1) < 0.05 and abs(y - 1) < 0.05


@pytest.mark.parametrize('name', list(OPTIMIZERS))
def test_converges_on_least_squares_regression(name):
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randn(64, 5, generator=gen, dtype=torch.float64)
    true_w = torch.randn(5, generator=gen, dtype=torch.float64)
    targets = inputs @ true_w + 0.1 * torch.randn(64, generator=gen, dtype=torch.float64)
    best = torch.linalg.lstsq(inputs, targets[:, None]).solution[:, 0]
    best_loss = ((inputs @ best - targets) ** 2).mean()

    w = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt = OPTIMIZERS[name]([w])
    for _ in range(1500):
        # Gradient of the mean squared error, 2/n X^T (X w - y)
        w.grad = 2 / len(inputs) * inputs.T @ (inputs @ w.detach() - targets)
        opt.step()
    loss = ((inputs @ w.detach() - targets) ** 2).mean()
    assert loss - best_loss < 1e-4 * best_loss
    assert (w.detach() - best).abs().max() < 1e-2
