"""
Time one optimizer step on a few hundred parameter tensors:

* ours, per-tensor path (`foreach=False`, the readable tutorial code),
* ours, multi-tensor path (`foreach=True`),
* `torch.optim.Adam` (single-tensor and foreach), the reference, measured in the same run.

All run the same update (textbook Adam, eps=1e-8, no weight decay) on identical tensors and gradients.
Prints milliseconds per step and ratios against `torch.optim.Adam(foreach=False)`.

    python benchmarks/bench_optimizers.py [--device cuda] [--tensors 300] [--steps 50]
"""

import argparse
import statistics
import time

import torch

from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.ada_belief import AdaBelief

# Shapes of a small transformer-like model, cycled until there are `--tensors` of them
SCENARIOS = {
    'small tensors (overhead bound)': [(64,), (64, 64), (16, 64), (64, 16), (128,)],
    'mixed sizes': [(128, 128), (128,), (512, 128), (128, 512), (512,), (128,)],
}


def make_params(shapes, count, device, dtype):
    gen = torch.Generator().manual_seed(0)
    params = []
    for i in range(count):
        shape = shapes[i % len(shapes)]
        p = torch.randn(shape, generator=gen).to(device=device, dtype=dtype).requires_grad_()
        p.grad = torch.randn(shape, generator=gen).to(device=device, dtype=dtype)
        params.append(p)
    return params


def time_contenders(contenders, shapes, count, device, dtype, steps, rounds=5, warmup=3):
    """
    Median milliseconds per step of each contender. The contenders take turns (`rounds` rounds of
    `steps // rounds` steps each), so that a slow phase of a shared machine hits all of them alike.
    """
    optimizers = {name: make(make_params(shapes, count, device, dtype)) for name, make in contenders.items()}
    for opt in optimizers.values():
        for _ in range(warmup):
            opt.step()
    times = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, opt in optimizers.items():
            for _ in range(max(1, steps // rounds)):
                if device == 'cuda':
                    torch.cuda.synchronize()
                start = time.perf_counter()
                opt.step()
                if device == 'cuda':
                    torch.cuda.synchronize()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1e3 for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--tensors', type=int, default=300)
    parser.add_argument('--steps', type=int, default=50)
    parser.add_argument('--threads', type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtype = torch.float32

    contenders = {
        'torch.optim.Adam (single-tensor)': lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-8, foreach=False),
        'torch.optim.Adam (foreach)': lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-8, foreach=True),
        'ours Adam, per-tensor': lambda p: Adam(p, lr=1e-3, eps=1e-8, optimized_update=False, foreach=False),
        'ours Adam, foreach': lambda p: Adam(p, lr=1e-3, eps=1e-8, optimized_update=False, foreach=True),
        'ours AdaBelief, per-tensor': lambda p: AdaBelief(p, lr=1e-3, foreach=False),
        'ours AdaBelief, foreach': lambda p: AdaBelief(p, lr=1e-3, foreach=True),
    }
    print(f'device={args.device} tensors={args.tensors} steps={args.steps} threads={args.threads} '
          f'torch={torch.__version__}')
    for scenario, shapes in SCENARIOS.items():
        n_elements = sum(torch.Size(shapes[i % len(shapes)]).numel() for i in range(args.tensors))
        print(f'\n{scenario}: {args.tensors} tensors, {n_elements:,} elements')
        results = time_contenders(contenders, shapes, args.tensors, args.device, dtype, args.steps)
        reference = results['torch.optim.Adam (single-tensor)']
        for name, ms in results.items():
            print(f'  {name:36s} {ms:9.3f} ms/step   x{ms / reference:5.2f} of torch single-tensor')
        print(f'  per-tensor / foreach (ours, Adam):      '
              f'{results["ours Adam, per-tensor"] / results["ours Adam, foreach"]:.2f}')
        print(f'  ours foreach / torch foreach (Adam):    '
              f'{results["ours Adam, foreach"] / results["torch.optim.Adam (foreach)"]:.2f}')


if __name__ == '__main__':
    main()
