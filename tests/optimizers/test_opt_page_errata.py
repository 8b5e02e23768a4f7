"""
Claims on the optimizer pages that were wrong once, each computed here and checked against the page's words.
"""

import importlib
import math
import pkgutil
import re

import pytest
import torch

import labml_nn.optimizers as optimizers
from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.adamw import AdamW
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.noam import Noam
from labml_nn.optimizers.radam import RAdam, rectification
from opt_testing import make_grads, make_params, run


def page(name: str) -> str:
    return importlib.import_module(f'labml_nn.optimizers.{name}').__doc__


def test_amsgrad_effective_step_grows_with_the_bias_correction_as_the_page_says():
    # One large gradient, then small ones: v_max = v_1 stays, and eta / sqrt(v_max / (1 - beta2^t)) grows
    lr, beta2 = 1e-3, 0.999
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = AMSGrad([w], lr=lr, betas=(0.9, beta2))
    steps, maxima = [], []
    for t in range(1, 101):
        w.grad = torch.full_like(w, 1. if t == 1 else 1e-3)
        opt.step()
        v_max = opt.state[w]['max_exp_avg_sq'].item()
        maxima.append(v_max)
        steps.append(lr / math.sqrt(v_max / (1 - beta2 ** t)))
    assert all(b >= a for a, b in zip(steps, steps[1:])) and steps[-1] > steps[0]
    assert maxima == sorted(maxima) and maxima[-1] == maxima[0]
    growth = steps[-1] / steps[0]
    assert f'{growth:.2f}' == '9.76'
    assert f'{1 / math.sqrt(1 - beta2):.1f}' == '31.6'
    text = page('amsgrad')
    assert 'no bias correction' in text and '9.76' in text and '31.6' in text
    assert 'never grows:' not in text


def test_float16_underflow_threshold_is_the_one_on_the_index_page():
    # The smallest float16 |g| whose (1 - beta2) g^2 is not rounded to 0, for beta2 = 0.999
    g = torch.arange(1, 20000, dtype=torch.float64).mul(1e-6).half().unique()
    v = torch.zeros_like(g).addcmul_(g, g, value=1 - 0.999)
    threshold = g[v > 0].min().item()
    assert g[v == 0].max().item() < threshold
    assert f'{threshold:.1e}' == '5.5e-03'
    assert f'{2. ** -24:.0e}' == '6e-08' and torch.finfo(torch.float16).smallest_normal > 2. ** -24
    text = optimizers.__doc__
    assert r'$|g| < 5.5 \times 10^{-3}$' in text and r'2^{-24} \approx 6 \times 10^{-8}' in text
    # and the float32 state keeps it: a float16 parameter with |g| = 1e-3 gets v_t > 0
    w = torch.zeros(3, dtype=torch.float16, requires_grad=True)
    opt = Adam([w])
    w.grad = torch.full_like(w, 1e-3)
    opt.step()
    assert opt.state[w]['exp_avg_sq'].dtype == torch.float32 and (opt.state[w]['exp_avg_sq'] > 0).all()


def test_noam_default_lr_runs_at_a_thousandth_of_the_papers_rate():
    def paper(t, d_model=512, warmup=4000):
        return d_model ** -0.5 * min(t ** -0.5, t * warmup ** -1.5)

    w = torch.zeros(1, requires_grad=True)
    default = Noam([w], warmup=4000)
    papers = Noam([w], lr=1., betas=(0.9, 0.98), eps=1e-9, warmup=4000)
    for t in (1, 100, 4000, 10000):
        state = {'step': t}
        assert math.isclose(default.get_lr(state, default.param_groups[0]), 1e-3 * paper(t), rel_tol=1e-12)
        assert math.isclose(papers.get_lr(state, papers.param_groups[0]), paper(t), rel_tol=1e-12)
    assert f'{1e-3 * paper(4000):.0e}' == '7e-07' and f'{paper(4000):.0e}' == '7e-04'
    text = page('noam')
    assert 'Warning' in text and '1/1000' in text
    assert r'$7 \times 10^{-7}$' in text and r'$7 \times 10^{-4}$' in text
    assert '`betas=(0.9, 0.98)`' in text and '`eps=1e-9`' in text


def test_decoupled_decay_follows_torch_not_the_papers_schedule_times_lambda():
    # Zero gradients, a schedule s_t through LambdaLR: the decay is eta s_t lambda (torch), not s_t lambda (paper)
    lr, decay, steps = 0.1, 0.5, 40
    schedule = lambda e: 0.9 ** e  # noqa: E731
    start = make_params()
    zeros = [[torch.zeros_like(p) for p in start] for _ in range(steps)]
    ours = run(lambda p: AdamW(p, lr=lr, weight_decay=decay), make_params(), zeros,
               scheduler=lambda o: torch.optim.lr_scheduler.LambdaLR(o, schedule))
    torch_form = math.prod(1 - lr * schedule(t - 1) * decay for t in range(1, steps + 1))
    paper_form = math.prod(1 - schedule(t - 1) * decay for t in range(1, steps + 1))
    for x, x0 in zip(ours, start):
        assert torch.allclose(x, x0.detach() * torch_form, rtol=1e-13, atol=0)
        assert not torch.allclose(x, x0.detach() * paper_form, rtol=1e-3, atol=0)
    assert 'not* the paper' in WeightDecay.__doc__
    assert 'follows `torch.optim.AdamW`, not the paper' in page('adamw')


def optimizer_pages():
    names = [m.name for m in pkgutil.iter_modules(optimizers.__path__)
             if not m.name.startswith(('mnist', 'configs')) and not m.name.endswith('_plot')]
    return {name: importlib.import_module(f'labml_nn.optimizers.{name}') for name in names}


def documented_text(module) -> str:
    """A page: the module docstring and the docstrings of its classes and their methods."""
    texts = [module.__doc__ or '']
    for value in vars(module).values():
        if isinstance(value, type) and value.__module__ == module.__name__:
            texts.append(value.__doc__ or '')
            texts += [getattr(f, '__doc__', None) or '' for f in vars(value).values()]
    return '\n'.join(texts)


@pytest.mark.parametrize('name', sorted(optimizer_pages()))
def test_every_page_writes_the_learning_rate_as_eta(name):
    text = documented_text(optimizer_pages()[name])
    # "learning rate $X$" and "`lr`: ... $X$" always name eta (eta_t for the rate of one step)
    for symbol in re.findall(r'learning rate (?:of this step )?\$(\\[a-z]+)', text):
        assert symbol == r'\eta', (name, symbol)
    for line in re.findall(r'\* `lr`:[^\n]*', text):
        assert r'$\eta$' in line, (name, line)


def test_adamw_page_writes_the_papers_alpha_as_eta_and_its_multiplier_as_s_t():
    text = page('adamw')
    assert r'\alpha \frac' not in text
    assert r's_t \left( \eta \frac{\hat{m}_t}' in text
    assert r'\eta_t = \eta s_t' in text


@pytest.mark.parametrize('optimized_update', [True, False])
@pytest.mark.parametrize('foreach', [False, True])
def test_radam_step_is_adams_step_at_lr_times_r_bit_for_bit(optimized_update, foreach):
    # r_t = None (rho_t <= 5, no step without the SGD fallback) is Adam at lr 0
    grads = make_grads()
    lr, beta2 = 1e-2, 0.999

    def r_at(epoch):
        r = rectification(beta2, epoch + 1)
        return 0. if r is None else r

    ours = run(lambda p: RAdam(p, lr=lr, eps=1e-8, optimized_update=optimized_update, degenerate_to_sgd=False,
                               foreach=foreach), make_params(), grads)
    adam = run(lambda p: Adam(p, lr=lr, eps=1e-8, optimized_update=optimized_update, foreach=foreach),
               make_params(), grads, scheduler=lambda o: torch.optim.lr_scheduler.LambdaLR(o, r_at))
    for x, y in zip(ours, adam):
        assert torch.equal(x, y)
