"""Each optimizer minimizes the Rosenbrock function and a least-squares regression problem."""

import pytest

from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.adam_warmup import AdamWarmup
from labml_nn.optimizers.adam_warmup_cosine_decay import AdamWarmupCosineDecay
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.noam import Noam
from labml_nn.optimizers.radam import RAdam
from opt_testing import assert_converges_on_least_squares, assert_converges_on_rosenbrock

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


@pytest.mark.parametrize('name', list(OPTIMIZERS))
def test_converges_on_rosenbrock(name):
    extra = dict(degenerate_to_sgd=False) if name in STARTS_WITH_SGD else {}
    assert_converges_on_rosenbrock(lambda p: OPTIMIZERS[name](p, **extra), steps=ROSENBROCK_STEPS)


@pytest.mark.parametrize('name', list(OPTIMIZERS))
def test_converges_on_least_squares_regression(name):
    assert_converges_on_least_squares(OPTIMIZERS[name], steps=1500)
