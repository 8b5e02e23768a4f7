"""
Time one optimizer step against `torch.optim.Adam(fused=True)`, measured in the same run, on three parameter lists:

* one tensor of 64M elements (pure streaming),
* the 161 parameter tensors of ResNet-50 (25.6M elements),
* the 144 tensors of a 12-layer transformer of width 768 (85M elements, no embeddings).

Contenders: our fused kernel (`fused=True`) for Adam, AMSGrad, RAdam and AdaBelief; our readable per-tensor path;
torch's own (fused Adam, fused Adam with `amsgrad=True`, RAdam with `foreach=True`: torch has no fused RAdam or
AdaBelief); the AdaBelief of pytorch_optimizer and of the official adabelief-pytorch when they are installed.
All run float32, no weight decay, on the same parameters and gradients; each contender keeps its own state.

The roofline is what the machine's memory allows: the bandwidth of `x.mul_(a)` on a 64M tensor (8 bytes per
element, measured here) times the bytes an optimizer must move per element (Adam: read the parameter, the
gradient, m and v, write the parameter, m and v, 28 bytes; AMSGrad 36 with its maximum). Goals (issue 13):
each fused optimizer within 1.1x of torch's fused Adam (AMSGrad: of torch's fused Adam with `amsgrad=True`).

    python benchmarks/bench_optimizers.py [--threads 1] [--steps 10] [--only transformer]
"""

import argparse
import contextlib
import gc
import io
import statistics
import time
from typing import Callable, Dict, List

import torch

from labml_nn.optimizers import fused
from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.radam import RAdam


def resnet50_shapes() -> List[tuple]:
    """The parameter shapes of torchvision's ResNet-50, written out (torchvision is not a dependency)."""
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    in_channels = 64
    for width, blocks in ((64, 3), (128, 4), (256, 6), (512, 3)):
        for block in range(blocks):
            shapes += [(width, in_channels, 1, 1), (width,), (width,),
                       (width, width, 3, 3), (width,), (width,),
                       (4 * width, width, 1, 1), (4 * width,), (4 * width,)]
            if block == 0:
                shapes += [(4 * width, in_channels, 1, 1), (4 * width,), (4 * width,)]
            in_channels = 4 * width
    return shapes + [(1000, 2048), (1000,)]


def transformer_shapes(layers: int = 12, width: int = 768) -> List[tuple]:
    """Attention (fused q, k, v and the output projection), two layer norms and a 4x feed-forward per layer."""
    layer = [(3 * width, width), (3 * width,), (width, width), (width,), (width,), (width,),
             (4 * width, width), (4 * width,), (width, 4 * width), (width,), (width,), (width,)]
    return layer * layers


SCENARIOS = {
    'one tensor': [(64 * 2 ** 20,)],
    'ResNet-50': resnet50_shapes(),
    'transformer': transformer_shapes(),
}

# Bytes moved per element by each kind of step
BYTES = {'adam': 28, 'amsgrad': 36}


def contenders() -> Dict[str, tuple]:
    """name: (make optimizer, bytes per element, the reference it is held to or None)."""
    found = {
        'torch Adam fused': (lambda p: torch.optim.Adam(p, lr=1e-3, fused=True), BYTES['adam'], None),
        'torch Adam fused, amsgrad': (lambda p: torch.optim.Adam(p, lr=1e-3, amsgrad=True, fused=True),
                                      BYTES['amsgrad'], None),
        'ours Adam fused': (lambda p: Adam(p, lr=1e-3, fused=True), BYTES['adam'], 'torch Adam fused'),
        'ours AMSGrad fused': (lambda p: AMSGrad(p, lr=1e-3, fused=True), BYTES['amsgrad'],
                               'torch Adam fused, amsgrad'),
        'ours RAdam fused': (lambda p: RAdam(p, lr=1e-3, fused=True), BYTES['adam'], 'torch Adam fused'),
        'ours AdaBelief fused': (lambda p: AdaBelief(p, lr=1e-3, fused=True), BYTES['adam'], 'torch Adam fused'),
        'ours Adam per-tensor': (lambda p: Adam(p, lr=1e-3, foreach=False), BYTES['adam'], None),
        'ours AdaBelief per-tensor': (lambda p: AdaBelief(p, lr=1e-3, foreach=False), BYTES['adam'], None),
        'peer: torch RAdam foreach': (lambda p: torch.optim.RAdam(p, lr=1e-3, foreach=True), BYTES['adam'], None),
    }
    try:
        import pytorch_optimizer
        found['peer: pytorch_optimizer AdaBelief'] = (
            lambda p: pytorch_optimizer.AdaBelief(p, lr=1e-3), BYTES['adam'], None)
    except ImportError:
        pass
    try:
        import adabelief_pytorch
        def official(p):
            # It prints its settings when constructed
            with contextlib.redirect_stdout(io.StringIO()):
                return adabelief_pytorch.AdaBelief(p, lr=1e-3, print_change_log=False)
        found['peer: adabelief-pytorch AdaBelief'] = (official, BYTES['adam'], None)
    except ImportError:
        pass
    return found


def bandwidth() -> float:
    """Bytes per second of `x.mul_(a)` on 64M float32 elements (one read and one write each), best of 5."""
    x = torch.ones(64 * 2 ** 20)
    times = []
    for _ in range(6):
        start = time.perf_counter()
        x.mul_(1.0)
        times.append(time.perf_counter() - start)
    return 8 * x.numel() / min(times[1:])


def time_steps(optimizers: Dict[str, torch.optim.Optimizer], steps: int, rounds: int = 5) -> Dict[str, float]:
    """
    Median seconds per step of each optimizer. They take turns (`rounds` rounds of `steps // rounds` steps each),
    so that a slow phase of a shared machine hits all of them alike.
    """
    times: Dict[str, List[float]] = {name: [] for name in optimizers}
    for _ in range(rounds):
        for name, opt in optimizers.items():
            for _ in range(max(1, steps // rounds)):
                start = time.perf_counter()
                opt.step()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def run_scenario(name: str, shapes: List[tuple], makers: Dict[str, tuple], steps: int, bytes_per_second: float):
    gen = torch.Generator().manual_seed(0)
    params = [torch.randn(shape, generator=gen).mul_(0.1).requires_grad_() for shape in shapes]
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen).mul_(1e-2)
    n = sum(p.numel() for p in params)
    print(f"\n{name}: {len(params)} tensors, {n / 1e6:.1f}M elements")
    # Every optimizer steps the same tensors; the values drift, which does not change the time of a step
    optimizers = {}
    for contender, (make, _, _) in makers.items():
        optimizers[contender] = make(params)
        for _ in range(6):  # past RAdam's first (SGD) steps; the state exists
            optimizers[contender].step()
    seconds = time_steps(optimizers, steps)
    reference = seconds['torch Adam fused']
    print(f"  {'':38s} {'ms/step':>9s} {'x torch fused Adam':>19s} {'% of roofline':>14s}  goal")
    for contender, s in seconds.items():
        _, bytes_per_element, held_to = makers[contender]
        roofline = bytes_per_element * n / bytes_per_second
        goal = ''
        if held_to is not None:
            ratio = s / seconds[held_to]
            goal = f"{'met' if ratio <= 1.1 else 'MISSED'}: {ratio:.2f}x of {held_to} (<= 1.1x)"
        print(f"  {contender:38s} {s * 1e3:9.1f} {s / reference:19.2f} {100 * roofline / s:13.0f}%  {goal}")
    for method in ('RAdam', 'AdaBelief'):
        peers = [s for c, s in seconds.items() if c.startswith('peer') and c.endswith(method + ' foreach')
                 or c.startswith('peer') and c.endswith(' ' + method)]
        if peers:
            print(f"  ours {method} fused is {min(peers) / seconds[f'ours {method} fused']:.1f}x faster "
                  f"than the fastest peer {method}")
    del optimizers, params
    gc.collect()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--only', choices=list(SCENARIOS), action='append')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    if not fused.load_kernel():
        raise SystemExit('the fused kernel could not be built; see the warning above')
    print(f"fused kernel ready in {time.perf_counter() - start:.1f} s")
    bytes_per_second = bandwidth()
    print(f"threads={args.threads} steps={args.steps} torch={torch.__version__}; "
          f"x.mul_(a) bandwidth {bytes_per_second / 1e9:.1f} GB/s")
    makers = contenders()
    for name in args.only or SCENARIOS:
        run_scenario(name, SCENARIOS[name], makers, args.steps, bytes_per_second)


if __name__ == '__main__':
    main()
