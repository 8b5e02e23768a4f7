"""
---
title: MNIST experiment overhead benchmark
summary: Times one epoch of the MNIST experiment (labml tracking, progress bars, validation points) against a plain PyTorch loop doing the same work, in the same process.
in_reading_order: false
---

# MNIST experiment overhead benchmark

`make bench-mnist` runs this. It trains one epoch with Adam twice, from the same initial weights and on the
same batches:

1. **plain**: a bare PyTorch loop: index a batch, forward, cross-entropy, backward, step, and the same
   validation evaluations at the same steps;
2. **experiment**: the [experiment's](mnist_experiment.html) `Trainer` inside a labml experiment, with the
   file writer and the tracker.

The two are timed alternately (`--repeats` times each) in one process and the ratio of the medians is
printed. The goal is an overhead of at most 5%, i.e. a ratio $\le 1.05$.
Both use the package's `Adam` with the settings of the experiment's table.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from labml import experiment, lab

from labml_nn.optimizers.mnist_data import load_mnist
from labml_nn.optimizers.mnist_experiment import (OPTIMIZERS, Job, Net, Settings, Trainer, _epoch_order, evaluate,
                                                  make_optimizer)


def plain_epoch(data, conf: Settings) -> float:
    """One epoch of a bare training loop doing the same work as the experiment. Returns seconds."""
    torch.manual_seed(0)
    model = Net()
    n = len(data.train_images)
    steps = -(-n // conf.batch_size)
    optimizer = make_optimizer('adam', model.parameters(), OPTIMIZERS['adam'].center_lr, steps)
    valid_at = {round(k * steps / conf.valid_per_epoch) for k in range(1, conf.valid_per_epoch + 1)}
    order = _epoch_order(0, 0, n)
    bs = conf.batch_size
    start = time.perf_counter()
    for step in range(steps):
        idx = order[step * bs:(step + 1) * bs]
        x, y = data.train_images[idx], data.train_labels[idx]
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step + 1 in valid_at:
            evaluate(model, data.valid_images, data.valid_labels)
    return time.perf_counter() - start


def experiment_epoch(data, conf: Settings, labml_dir: Path) -> float:
    """One epoch of the experiment's trainer inside a labml experiment. Returns the epoch's wall time."""
    experiment.create(name='mnist_bench', writers={'file'})
    trainer = Trainer(Job('final', 'adam', OPTIMIZERS['adam'].center_lr, 'constant', 0, 1), conf, data, track=True)
    with experiment.start():
        trainer.train()
    return trainer.epochs[0]['epoch_time_s']


def main(argv=None):
    p = argparse.ArgumentParser(prog='python -m labml_nn.optimizers.mnist_bench')
    p.add_argument('--data-dir', default='data')
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--repeats', type=int, default=2)
    p.add_argument('--train-size', type=int, default=0, help='use only the first N training images (0: all)')
    args = p.parse_args(argv)

    torch.set_num_threads(1)
    data = load_mnist(args.data_dir)
    if args.train_size:
        data.train_images = data.train_images[:args.train_size]
        data.train_labels = data.train_labels[:args.train_size]
    conf = Settings(optimizers=['adam'], batch_size=args.batch_size, train_size=0)

    with tempfile.TemporaryDirectory() as tmp:
        lab.configure({'path': str(Path.cwd()), 'experiments_path': tmp})
        plain, ours = [], []
        for _ in range(args.repeats):
            plain.append(plain_epoch(data, conf))
            ours.append(experiment_epoch(data, conf, Path(tmp)))

    p_med, o_med = statistics.median(plain), statistics.median(ours)
    print()
    print(f'epoch of {len(data.train_images)} images, batch size {args.batch_size}, '
          f'{args.repeats} repeats, 1 thread')
    print(f'plain PyTorch loop: {", ".join(f"{t:.2f}" for t in plain)} s (median {p_med:.2f} s)')
    print(f'experiment        : {", ".join(f"{t:.2f}" for t in ours)} s (median {o_med:.2f} s)')
    print(f'ratio experiment / plain = {o_med / p_med:.3f} (goal <= 1.05)')


if __name__ == '__main__':
    main()
