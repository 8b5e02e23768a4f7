r"""
---
title: MNIST experiment comparing the optimizers
summary: Trains the same small CNN on MNIST with every optimizer of this package plus PyTorch baselines, picks each one's learning rate on the validation split, and compares them over seeds with paired statistics.
---

# MNIST experiment comparing the optimizers

This experiment trains one small convolutional network on [MNIST](http://yann.lecun.com/exdb/mnist/) with every
optimizer of this package and with `torch.optim.Adam` and `torch.optim.SGD` as baselines, and asks a
question a careful reader would accept an answer to: *on this problem, which differences between optimizers are
larger than the differences between seeds?*

1. **A learning-rate sweep.** Each optimizer is tried at five rates on a half-decade grid around its usual rate
   ($\eta_0 \cdot 10^{-1}, 10^{-1/2}, 1, 10^{1/2}, 10$), one seed, `--sweep-epochs` epochs at a constant rate.
   The tool picks the rate with the lowest **validation** loss (never the test set) and records it.
2. **Final runs** at the chosen rates with `--seeds` seeds. Every optimizer is compared like with like: once at a
   constant rate, and once with the same cosine decay to $0$ for all (`torch.optim.lr_scheduler.LambdaLR`).
   The optimizers that carry their own schedule (warm-up, warm-up and cosine decay, Noam) run with it and are
   reported in a table of their own.
3. **Statistics** ([`mnist_report`](mnist_report.html)): mean and sample standard deviation over seeds, the
   paired difference to Adam with a 95% confidence interval, a McNemar test on the per-image test predictions,
   and a sentence per table, written by the tool, that says which differences are distinguishable from noise.

For a given seed every optimizer starts from the **same initial weights** and sees the **same batches in the
same order**. Every setting that changes an optimizer's behaviour is in the table [`OPTIMIZERS`](#optimizers)
below and is printed on the results page.

Runs are independent, so the tool runs `--jobs` of them at once (two by default, one thread each: the machines
here have two cores), each in its own worker process. Each run is a [labml](https://github.com/labmlai/labml)
experiment: its configs are recorded and its metrics written by labml's file writer (and sent to a labml app
with `--labml-app URL`). The terminal shows one progress line that fits in 80 columns, or one plain line per
finished run when the output is not a terminal.

```bash
python -m labml_nn.optimizers.mnist_experiment --optimizers adam,radam,adabelief --seeds 5
python -m labml_nn.optimizers.mnist_experiment --all --publish
```

**Ctrl-C** asks every worker to save a checkpoint of its run at the end of the current step and stop; the same
command with `--resume` continues, and its results equal those of an uninterrupted comparison. `--resume` refuses
arguments that differ from the comparison it continues. When all runs are done the tool writes the report.

**Results** of the committed comparison are on the page [Optimizers on MNIST: results](mnist_results/readme.html).
"""

import argparse
import importlib
import json
import math
import multiprocessing
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from labml_nn.optimizers.mnist_data import MNISTDataError, MNISTTensors, load_mnist


# ## The model
#
# The classic small CNN for MNIST: two convolution + max-pool stages and two linear layers.
# A $28 \times 28$ image becomes $20 \times 12 \times 12$ after the first stage and
# $50 \times 4 \times 4 = 800$ features after the second.
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, kernel_size=5)
        self.conv2 = nn.Conv2d(20, 50, kernel_size=5)
        self.fc1 = nn.Linear(800, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        # Logits; the loss is the cross-entropy of these.
        return self.fc2(x)


# ## Optimizers
#
# Each entry names the class, every setting that changes its behaviour (class defaults included, written out so
# that the page can print them), and the centre $\eta_0$ of its learning-rate grid: the rate its paper or torch
# uses. `wrap` puts a wrapper around the inner optimizer; `schedule` marks the classes with a built-in schedule;
# `hessian_every` is Sophia's $k$, the steps between two Hessian estimates.
@dataclass(frozen=True)
class OptimizerSpec:
    label: str
    module: str
    cls: str
    settings: Dict[str, Any]
    center_lr: float
    wrap: Optional[tuple] = None
    schedule: Optional[str] = None
    hessian_every: int = 0


BETAS = (0.9, 0.999)
OURS = 'labml_nn.optimizers.'

OPTIMIZERS: Dict[str, OptimizerSpec] = {
    'adam': OptimizerSpec('Adam', OURS + 'adam', 'Adam',
                          dict(betas=BETAS, eps=1e-8, optimized_update=False, amsgrad=False), 1e-3),
    'torch_adam': OptimizerSpec('torch.optim.Adam', 'torch.optim', 'Adam', dict(betas=BETAS, eps=1e-8), 1e-3),
    'amsgrad': OptimizerSpec('AMSGrad', OURS + 'amsgrad', 'AMSGrad',
                             dict(betas=BETAS, eps=1e-8, optimized_update=False, amsgrad=True), 1e-3),
    'adamw': OptimizerSpec('AdamW', OURS + 'adamw', 'AdamW', dict(betas=BETAS, eps=1e-8, weight_decay=1e-2), 1e-3),
    'radam': OptimizerSpec('RAdam', OURS + 'radam', 'RAdam',
                           dict(betas=BETAS, eps=1e-8, optimized_update=False, degenerate_to_sgd=True), 1e-3),
    'adabelief': OptimizerSpec('AdaBelief', OURS + 'ada_belief', 'AdaBelief',
                               dict(betas=BETAS, eps=1e-16, rectify=True, amsgrad=False, degenerate_to_sgd=True,
                                    optimized_update=True), 1e-3),
    'qhadam': OptimizerSpec('QHAdam', OURS + 'qhadam', 'QHAdam',
                            dict(betas=(0.995, 0.999), nus=(0.7, 1.0), eps=1e-8), 1e-3),
    'lamb': OptimizerSpec('LAMB', OURS + 'lamb', 'Lamb', dict(betas=BETAS, eps=1e-6, weight_decay=0.), 3e-3),
    'rmsprop': OptimizerSpec('RMSprop', OURS + 'rmsprop', 'RMSprop', dict(alpha=0.99, eps=1e-8), 1e-3),
    'adagrad': OptimizerSpec('Adagrad', OURS + 'adagrad', 'Adagrad', dict(eps=1e-10), 1e-2),
    'adadelta': OptimizerSpec('Adadelta', OURS + 'adadelta', 'Adadelta', dict(rho=0.9, eps=1e-6), 1.0),
    'sgd': OptimizerSpec('SGD + momentum', OURS + 'sgd', 'SGD', dict(momentum=0.9), 2e-2),
    'torch_sgd': OptimizerSpec('torch.optim.SGD + momentum', 'torch.optim', 'SGD', dict(momentum=0.9), 2e-2),
    'lars': OptimizerSpec('LARS', OURS + 'larc', 'LARS', dict(momentum=0.9, trust_coefficient=0.001), 3.0),
    'lookahead': OptimizerSpec('Lookahead(Adam)', OURS + 'adam', 'Adam',
                               dict(betas=BETAS, eps=1e-8, optimized_update=False), 1e-3,
                               wrap=(OURS + 'lookahead', 'Lookahead', dict(k=6, alpha=0.5))),
    'ranger': OptimizerSpec('Ranger', OURS + 'ranger', 'Ranger', dict(betas=(0.95, 0.999), eps=1e-5), 1e-3),
    'sophia': OptimizerSpec('Sophia-G', OURS + 'sophia', 'Sophia', dict(betas=(0.9, 0.95), rho=0.03), 3e-4,
                            hessian_every=10),
    'adam_warmup': OptimizerSpec('AdamWarmup', OURS + 'adam_warmup', 'AdamWarmup',
                                 dict(betas=BETAS, eps=1e-8, optimized_update=False, warmup=100), 1e-3,
                                 schedule='linear warm-up over 100 steps'),
    'adam_warmup_cosine_decay': OptimizerSpec(
        'AdamWarmupCosineDecay', OURS + 'adam_warmup_cosine_decay', 'AdamWarmupCosineDecay',
        dict(betas=BETAS, eps=1e-8, optimized_update=False, warmup=100), 1e-3,
        schedule='warm-up over 100 steps, then cosine decay to 0 at the last step'),
    # Noam's `lr` is a multiplier: its peak rate is lr * 512^-1/2 * 100^-1/2 = lr / 226
    'noam': OptimizerSpec('Noam', OURS + 'noam', 'Noam',
                          dict(betas=BETAS, eps=1e-8, optimized_update=False, warmup=100, d_model=512), 0.25,
                          schedule='Noam: warm-up over 100 steps, then 1/sqrt(t)'),
}

# The grid: half-decades around the centre
RATE_EXPONENTS = (-1., -0.5, 0., 0.5, 1.)


def sweep_rates(name: str) -> List[float]:
    r"""$\eta_0 \cdot 10^{e}$ for $e \in \{-1, -\frac{1}{2}, 0, \frac{1}{2}, 1\}$, rounded to 3 significant digits."""
    return [float(f'{OPTIMIZERS[name].center_lr * 10 ** e:.3g}') for e in RATE_EXPONENTS]


def optimizer_settings(name: str, total_steps: int) -> Dict[str, Any]:
    """The keyword arguments given to optimizer `name` besides `lr`, with the run-dependent ones filled in."""
    if name not in OPTIMIZERS:
        raise ValueError(f'optimizers: unknown optimizer {name!r}; choose from {", ".join(OPTIMIZERS)}')
    settings = dict(OPTIMIZERS[name].settings)
    if OPTIMIZERS[name].cls == 'AdamWarmupCosineDecay':
        settings['total_steps'] = total_steps
    # Short trial runs keep the warm-up to a tenth of the run, so that it ends
    if 'warmup' in settings:
        settings['warmup'] = max(1, min(settings['warmup'], total_steps // 10))
        if 'total_steps' in settings:
            settings['total_steps'] = max(settings['total_steps'], settings['warmup'] + 1)
    return settings


def peak_lr(name: str, lr: float, total_steps: int) -> float:
    """The largest rate a run reaches: `lr`, except for Noam, whose `lr` multiplies its schedule."""
    settings = optimizer_settings(name, total_steps)
    if OPTIMIZERS[name].cls == 'Noam':
        return lr * settings['d_model'] ** -0.5 * settings['warmup'] ** -0.5
    return lr


def make_optimizer(name: str, params, lr: float, total_steps: int) -> torch.optim.Optimizer:
    spec = OPTIMIZERS[name]
    cls = getattr(importlib.import_module(spec.module), spec.cls)
    optimizer = cls(params, lr=lr, **optimizer_settings(name, total_steps))
    if spec.wrap is not None:
        module, wrapper, settings = spec.wrap
        optimizer = getattr(importlib.import_module(module), wrapper)(optimizer, **settings)
    return optimizer


# ## One run
#
# A run is one optimizer at one rate, under one schedule (`constant`, `cosine` for the same cosine decay for all,
# or `own` for a built-in schedule), with one seed, in the `sweep` or the `final` phase.
@dataclass(frozen=True)
class Job:
    phase: str
    optimizer: str
    lr: float
    schedule: str
    seed: int
    epochs: int

    @property
    def key(self) -> str:
        return f'{self.phase}-{self.optimizer}-lr{self.lr:g}-{self.schedule}-seed{self.seed}'


# The settings shared by every run of a comparison; `--resume` checks that they are unchanged.
@dataclass
class Settings:
    optimizers: List[str]
    seeds: int = 5
    epochs: int = 2
    sweep_epochs: int = 1
    batch_size: int = 128
    valid_per_epoch: int = 2
    valid_size: int = 5000
    train_size: int = 20000
    device: str = 'cpu'
    threads: int = 1
    jobs: int = 2
    data_dir: str = 'data'


def schedules(name: str) -> List[str]:
    """Final runs: a built-in schedule is run as it is; every other optimizer at a constant rate and with cosine decay."""
    return ['own'] if OPTIMIZERS[name].schedule else ['constant', 'cosine']


def sweep_jobs(s: Settings) -> List[Job]:
    return [Job('sweep', name, lr, 'own' if OPTIMIZERS[name].schedule else 'constant', 0, s.sweep_epochs)
            for name in s.optimizers for lr in sweep_rates(name)]


def final_jobs(s: Settings, name: str, lr: float) -> List[Job]:
    return [Job('final', name, lr, schedule, seed, s.epochs) for schedule in schedules(name) for seed in range(s.seeds)]


def choose_rate(results: List[Dict[str, Any]]) -> float:
    """The swept rate with the lowest final validation loss (a diverged run, with a NaN loss, is never chosen)."""
    def loss(r):
        value = r['epochs'][-1]['valid_loss']
        return value if math.isfinite(value) else math.inf
    return min(results, key=lambda r: (loss(r), r['lr']))['lr']


def _epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    # The data order depends only on the seed and the epoch, so a resumed run can recompute it
    # instead of storing it, and every optimizer sees the same batches for a given seed.
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator)


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 2000):
    """Mean cross-entropy, accuracy, and the indices of the misclassified images over a whole split."""
    model.eval()
    loss_sum = 0.
    wrong = []
    for i in range(0, len(images), batch_size):
        logits = model(images[i:i + batch_size])
        y = labels[i:i + batch_size]
        loss_sum += F.cross_entropy(logits, y, reduction='sum').double().item()
        wrong += (torch.nonzero(logits.argmax(-1) != y).flatten() + i).tolist()
    model.train()
    return loss_sum / len(images), 1 - len(wrong) / len(images), wrong


def _atomic_write(data: bytes, path: Path):
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_bytes(data)
    os.replace(tmp, path)


# ## Training one run
#
# `Trainer` trains one `Job`. Its `state_dict()` holds everything needed to continue: model, optimizer,
# scheduler, position in the data, the running sums of the epoch and the metrics so far.
class Trainer:
    def __init__(self, job: Job, settings: Settings, data: MNISTTensors, *, track: bool = False):
        self.job, self.settings, self.data, self.track = job, settings, data, track
        self.device = torch.device(settings.device)
        self.n_train = len(data.train_images)
        self.steps_per_epoch = math.ceil(self.n_train / settings.batch_size)
        self.total_steps = self.steps_per_epoch * job.epochs
        # Validation points: evenly spaced in each epoch, the last one at the end of the epoch
        self.valid_at = {round(k * self.steps_per_epoch / settings.valid_per_epoch)
                         for k in range(1, settings.valid_per_epoch + 1)}

        # The same seed gives the same initial weights, whatever the optimizer
        torch.manual_seed(job.seed)
        self.model = Net().to(self.device)
        self.optimizer = make_optimizer(job.optimizer, self.model.parameters(), job.lr, self.total_steps)
        self.scheduler = None
        if job.schedule == 'cosine':
            # $\eta_t = \eta \cdot \frac{1}{2}\left(1 + \cos\frac{\pi t}{T}\right)$, the same for every optimizer
            total = self.total_steps
            self.scheduler = torch.optim.lr_scheduler.LambdaLR(
                self.optimizer, lambda t: 0.5 * (1 + math.cos(math.pi * min(t, total) / total)))

        self.epoch = self.step_in_epoch = self.global_step = 0
        self._reset_epoch_sums()
        self.epoch_time = self.epoch_cpu_time = 0.
        self.epochs: List[Dict[str, float]] = []
        self.curve: List[Dict[str, float]] = []
        self.test: Dict[str, Any] = {}

    def _reset_epoch_sums(self):
        self.loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        self.correct_sum = torch.zeros((), dtype=torch.int64, device=self.device)
        self.seen = 0

    def state_dict(self) -> Dict[str, Any]:
        return {'model': self.model.state_dict(), 'optimizer': self.optimizer.state_dict(),
                'scheduler': self.scheduler.state_dict() if self.scheduler else None,
                'epoch': self.epoch, 'step_in_epoch': self.step_in_epoch, 'global_step': self.global_step,
                'loss_sum': self.loss_sum.cpu(), 'correct_sum': self.correct_sum.cpu(), 'seen': self.seen,
                'epoch_time': self.epoch_time, 'epoch_cpu_time': self.epoch_cpu_time,
                'epochs': self.epochs, 'curve': self.curve, 'test': self.test}

    def load_state_dict(self, state: Dict[str, Any]):
        self.model.load_state_dict(state['model'])
        self.optimizer.load_state_dict(state['optimizer'])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state['scheduler'])
        for key in ('epoch', 'step_in_epoch', 'global_step', 'seen', 'epoch_time', 'epoch_cpu_time'):
            setattr(self, key, state[key])
        self.loss_sum = state['loss_sum'].to(self.device)
        self.correct_sum = state['correct_sum'].to(self.device)
        self.epochs, self.curve, self.test = list(state['epochs']), list(state['curve']), dict(state['test'])

    def _sync(self):
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)

    def _save(self, step, values: Dict[str, float]):
        if self.track:
            from labml import tracker
            tracker.save(step, values)

    def _validate(self):
        loss, accuracy, _ = evaluate(self.model, self.data.valid_images, self.data.valid_labels)
        self.curve.append({'step': self.global_step, 'valid_loss': loss, 'valid_accuracy': accuracy})
        self._save(self.global_step, {'loss.valid': loss, 'accuracy.valid': accuracy})

    # ### One step
    #
    # Take the batch at `step_in_epoch` of this epoch's order, compute the cross-entropy, back-propagate and
    # let the optimizer update the weights. Sophia also refreshes its Hessian estimate every $k$ steps, from labels
    # sampled from the model (seeded by the step, so a resumed run samples the same ones).
    def _train_step(self, order: torch.Tensor):
        bs = self.settings.batch_size
        idx = order[self.step_in_epoch * bs:(self.step_in_epoch + 1) * bs]
        x, y = self.data.train_images[idx], self.data.train_labels[idx]

        logits = self.model(x)
        loss = F.cross_entropy(logits, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        every = OPTIMIZERS[self.job.optimizer].hessian_every
        if every and self.global_step % every == 0:
            from labml_nn.optimizers.sophia import sophia_g_hessian_step
            generator = torch.Generator(device=self.device).manual_seed(self.job.seed * 1_000_003 + self.global_step)
            sophia_g_hessian_step(self.model, self.optimizer, x, generator=generator)

        self.loss_sum += loss.detach().double() * len(y)
        self.correct_sum += (logits.detach().argmax(-1) == y).sum()
        self.seen += len(y)
        self.step_in_epoch += 1
        self.global_step += 1

    # ### The training loop
    #
    # Returns the result when all epochs are done, or raises `Interrupted` after calling `save_checkpoint` when
    # `stop()` becomes true. `on_step` is called after every step (the tests use it).
    def train(self, stop: Callable[[], bool] = lambda: False, save_checkpoint: Callable[[], None] = lambda: None,
              on_step: Optional[Callable[['Trainer'], None]] = None) -> Dict[str, Any]:
        for epoch in range(self.epoch, self.job.epochs):
            self.epoch = epoch
            order = _epoch_order(self.job.seed, epoch, self.n_train).to(self.device)
            self._sync()
            start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(self.step_in_epoch, self.steps_per_epoch):
                if stop():
                    self._sync()
                    self.epoch_time += time.perf_counter() - start
                    self.epoch_cpu_time += time.process_time() - cpu_start
                    save_checkpoint()
                    raise Interrupted()
                self._train_step(order)
                if self.global_step % 10 == 0:
                    self._save(self.global_step, {'loss.train': self.loss_sum.item() / self.seen})
                if self.step_in_epoch in self.valid_at:
                    self._validate()
                if on_step is not None:
                    on_step(self)

            self._sync()
            self.epoch_time += time.perf_counter() - start
            self.epoch_cpu_time += time.process_time() - cpu_start
            last = self.curve[-1]
            self.epochs.append({'epoch': epoch + 1, 'step': self.global_step,
                                'train_loss': self.loss_sum.item() / self.seen,
                                'train_accuracy': self.correct_sum.item() / self.seen,
                                'valid_loss': last['valid_loss'], 'valid_accuracy': last['valid_accuracy'],
                                'epoch_time_s': self.epoch_time, 'epoch_cpu_s': self.epoch_cpu_time})
            self.epoch += 1
            self.step_in_epoch = 0
            self.epoch_time = self.epoch_cpu_time = 0.
            self._reset_epoch_sums()
            # The test set is used once, after the last epoch
            if self.epoch == self.job.epochs:
                loss, accuracy, wrong = evaluate(self.model, self.data.test_images, self.data.test_labels)
                self.test = {'test_loss': loss, 'test_accuracy': accuracy, 'test_wrong': wrong}
                self._save(self.global_step, {'loss.test': loss, 'accuracy.test': accuracy})
            # A checkpoint at every epoch end, so a crash loses at most one epoch
            save_checkpoint()
        return self.result()

    def result(self) -> Dict[str, Any]:
        return {**asdict(self.job), 'key': self.job.key,
                'settings': optimizer_settings(self.job.optimizer, self.total_steps),
                'peak_lr': peak_lr(self.job.optimizer, self.job.lr, self.total_steps),
                'steps_per_epoch': self.steps_per_epoch, 'epochs': self.epochs, 'curve': self.curve, **self.test}


class Interrupted(KeyboardInterrupt):
    """Training stopped on request; the checkpoint is saved. (A `KeyboardInterrupt`, so labml marks the run
    as interrupted rather than crashed.)"""


# ## Running one job in a worker
#
# A worker process loads the data once and then trains the jobs it is given, one thread each. It ignores Ctrl-C:
# the main process sets `stop_event` instead, and the worker checkpoints at the end of its current step.
_worker: Dict[str, Any] = {}


def _init_worker(settings: Dict[str, Any], results_dir: str, stop_event, labml: Dict[str, Any]):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # labml prints each run's banner; the main process draws the only progress line (errors still reach stderr)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    s = Settings(**settings)
    if s.device == 'cpu':
        torch.set_num_threads(s.threads)
    # The main process verified the files' checksums before starting the workers
    data = load_mnist(s.data_dir, valid_size=s.valid_size, download=False, verify=False)
    if s.train_size:
        data.train_images, data.train_labels = data.train_images[:s.train_size], data.train_labels[:s.train_size]
    _worker.update(settings=s, data=data.to(s.device), results_dir=Path(results_dir), stop_event=stop_event,
                   labml=labml)


def run_file(results_dir: Path, job: Job) -> Path:
    return results_dir / 'runs' / f'{job.key}.json'


def run_job(job: Job) -> Optional[Dict[str, Any]]:
    """Train `job` (continuing its checkpoint if there is one); write and return its result, `None` if stopped."""
    s, results_dir, stop_event = _worker['settings'], _worker['results_dir'], _worker['stop_event']
    checkpoint = results_dir / 'checkpoints' / f'{job.key}.pt'
    trainer = Trainer(job, s, _worker['data'], track=_worker['labml'].get('track', False))
    saved = torch.load(checkpoint, weights_only=False) if checkpoint.exists() else None
    if saved is not None:
        trainer.load_state_dict(saved['trainer'])

    def save_checkpoint():
        checkpoint.parent.mkdir(exist_ok=True)
        tmp = checkpoint.with_name(checkpoint.name + '.tmp')
        torch.save({'trainer': trainer.state_dict(), 'labml_uuid': uuid}, tmp)
        os.replace(tmp, checkpoint)

    uuid = saved.get('labml_uuid') if saved else None
    load_before = os.getloadavg()[0] if hasattr(os, 'getloadavg') else None
    watcher = None
    if trainer.track:
        watcher, uuid = _start_labml_run(job, uuid, _worker['labml'])
    try:
        result = trainer.train(stop_event.is_set, save_checkpoint)
    except Interrupted:
        # labml's watcher records an exact KeyboardInterrupt as "interrupted"
        if watcher is not None:
            watcher.__exit__(KeyboardInterrupt, None, None)
        return None
    except BaseException as e:
        if watcher is not None:
            watcher.__exit__(type(e), e, e.__traceback__)
        raise
    if watcher is not None:
        watcher.__exit__(None, None, None)
    result['labml_uuid'] = uuid
    result['load_average'] = [load_before, os.getloadavg()[0] if load_before is not None else None]
    _atomic_write(json.dumps(result, indent=1).encode(), run_file(results_dir, job))
    if checkpoint.exists():
        checkpoint.unlink()
    return result


def _start_labml_run(job: Job, uuid: Optional[str], labml: Dict[str, Any]):
    """A labml run for `job` (the same run again when resuming), with its configs; file writer, and the app's."""
    from labml import experiment
    writers = {'file', 'app'} if labml.get('app_url') else {'file'}
    experiment.create(uuid=uuid, name='mnist_optimizers', comment=job.key, writers=writers)
    experiment.configs({**asdict(job), 'settings': json.dumps(optimizer_settings(job.optimizer, 1))})
    if uuid:
        # labml refuses to restart a run whose `run.pid` is still there; the process that wrote it has stopped
        from labml import lab
        stale = Path(lab.get_experiments_path()) / 'mnist_optimizers' / uuid / 'run.pid'
        if stale.exists():
            stale.unlink()
    return experiment.start(), experiment.get_uuid()


def configure_labml(labml_dir: Path, app_url: Optional[str]):
    """Where labml keeps its runs, and the app it reports to. labml looks for a `.labml.yaml` project file and
    prints a notice when there is none; the paths are set here, so the notice is silenced."""
    import contextlib
    import io
    from labml import lab
    with contextlib.redirect_stdout(io.StringIO()):
        lab.get_experiments_path()
    configs = {'path': str(Path.cwd()), 'experiments_path': str(Path(labml_dir).resolve())}
    if app_url:
        configs['app_url'] = app_url
    lab.configure(configs)


def _worker_labml_init(settings, results_dir, stop_event, labml):
    _init_worker(settings, results_dir, stop_event, labml)
    if labml.get('track'):
        configure_labml(Path(labml['dir']), labml.get('app_url'))


# ## Progress
#
# On a terminal: one line, redrawn, at most 80 columns. Otherwise one plain line per finished run.
class Progress:
    def __init__(self, total: int, stream=None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.total, self.done, self.start = total, 0, time.perf_counter()
        self.width = min(80, shutil.get_terminal_size((80, 24)).columns) - 1

    def line(self, last: str) -> str:
        elapsed = time.perf_counter() - self.start
        left = elapsed / self.done * (self.total - self.done) if self.done else None
        eta = f' · {left / 60:.0f} min left' if left is not None else ''
        text = f'[{self.done}/{self.total}]{eta} · {last}'
        return text if len(text) <= self.width else text[:self.width - 1] + '…'

    def finished(self, job: Job, result: Dict[str, Any]):
        self.done += 1
        last = (f'{job.optimizer} {job.phase} lr={job.lr:g} {job.schedule} s{job.seed}: '
                f'valid loss {result["epochs"][-1]["valid_loss"]:.4f}')
        if self.tty:
            print('\r' + self.line(last).ljust(self.width), end='', file=self.stream, flush=True)
        else:
            print(self.line(last), file=self.stream, flush=True)

    def add(self, n: int, already_done: int = 0):
        """`n` more runs to show, of which `already_done` finished before (a resumed comparison)."""
        self.total += n
        self.done += already_done

    def close(self):
        if self.tty:
            print(file=self.stream, flush=True)


# ## The comparison
#
# The results folder holds `plan.json` (the settings, the commands and the environment), `runs/KEY.json` (one
# file per finished run, written as soon as it finishes) and `checkpoints/KEY.pt` (runs in progress).
# Final runs of an optimizer are scheduled as soon as its sweep is complete.
def run_comparison(settings: Settings, results_dir: Path, *, track: bool = False, labml_dir: Path = Path('logs'),
                   app_url: Optional[str] = None, progress: Optional[Progress] = None) -> Dict[str, Any]:
    results_dir = Path(results_dir)
    done: Dict[str, Dict[str, Any]] = {}
    for path in sorted((results_dir / 'runs').glob('*.json')):
        result = json.loads(path.read_text())
        done[result['key']] = result

    sweeps = sweep_jobs(settings)
    chosen: Dict[str, float] = {}
    pending: List[Job] = []

    def schedule_finals(name: str):
        runs = [done[j.key] for j in sweeps if j.optimizer == name and j.key in done]
        if len(runs) == len(sweep_rates(name)) and name not in chosen:
            chosen[name] = choose_rate(runs)
            finals = final_jobs(settings, name, chosen[name])
            pending.extend(j for j in finals if j.key not in done)
            if progress:
                progress.add(len(finals), sum(j.key in done for j in finals))

    pending.extend(j for j in sweeps if j.key not in done)
    if progress:
        progress.add(len(sweeps), len(sweeps) - len(pending))
    for name in settings.optimizers:
        schedule_finals(name)

    context = multiprocessing.get_context('spawn')
    stop_event = context.Event()
    labml = {'track': track, 'dir': str(labml_dir), 'app_url': app_url}
    pool = context.Pool(settings.jobs, initializer=_worker_labml_init,
                        initargs=(asdict(settings), str(results_dir), stop_event, labml))
    running: Dict[str, tuple] = {}
    interrupted = False
    try:
        while pending or running:
            while pending and len(running) < settings.jobs and not interrupted:
                job = pending.pop(0)
                running[job.key] = (job, pool.apply_async(run_job, (job,)))
            time.sleep(0.2)
            for key, (job, handle) in list(running.items()):
                if handle.ready():
                    del running[key]
                    result = handle.get()
                    if result is None:
                        interrupted = True
                        continue
                    done[key] = result
                    if progress:
                        progress.finished(job, result)
                    if job.phase == 'sweep':
                        schedule_finals(job.optimizer)
            if interrupted and not running:
                break
    except KeyboardInterrupt:
        interrupted = True
        print('\nCtrl-C: each run saves a checkpoint at the end of its current step...', file=sys.stderr, flush=True)
        stop_event.set()
        for job, handle in running.values():
            handle.wait()
    finally:
        pool.close()
        pool.join()
        if progress:
            progress.close()
    if interrupted:
        raise Interrupted()
    return {'chosen_lr': chosen, 'runs': [done[k] for k in sorted(done)]}


# ## Environment
#
# Recorded with the results so the page can say what produced them.
def environment(device: str) -> Dict[str, Any]:
    import labml
    import numpy

    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=Path(__file__).parent, capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    env = {'python': platform.python_version(), 'torch': torch.__version__,
           'labml': getattr(labml, '__version__', None), 'numpy': numpy.__version__,
           'platform': platform.platform(), 'cpu': cpu, 'cpu_count': os.cpu_count(), 'device': device,
           'git_commit': commit or os.environ.get('MNIST_SOURCE_COMMIT'),
           'load_average_at_start': os.getloadavg()[0] if hasattr(os, 'getloadavg') else None}
    if device.startswith('cuda'):
        env['gpu'] = torch.cuda.get_device_name(torch.device(device))
    return env


# ## Command line
#
# Every value is checked before anything is read or written; a bad one ends with one line and exit code 2.
SETTINGS_OPTIONS = ('optimizers', 'seeds', 'epochs', 'sweep_epochs', 'batch_size', 'valid_per_epoch', 'valid_size',
                    'train_size', 'device', 'threads', 'jobs', 'data_dir')


class UsageError(Exception):
    """A bad argument: one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    d = Settings(optimizers=[])
    p = argparse.ArgumentParser(prog='python -m labml_nn.optimizers.mnist_experiment',
                                description='Compare optimizers on MNIST with a small CNN: a learning-rate sweep, '
                                            'then final runs over seeds, then the report.')
    p.add_argument('--optimizers', default='adam,radam,adabelief',
                   help=f'comma-separated names from: {", ".join(OPTIMIZERS)}')
    p.add_argument('--all', action='store_true', help='every optimizer of the table')
    p.add_argument('--seeds', type=int, default=d.seeds, help='seeds of the final runs: 0, 1, ..., N-1')
    p.add_argument('--epochs', type=int, default=d.epochs, help='epochs of a final run')
    p.add_argument('--sweep-epochs', type=int, default=d.sweep_epochs, help='epochs of a sweep run')
    p.add_argument('--batch-size', type=int, default=d.batch_size)
    p.add_argument('--valid-per-epoch', type=int, default=d.valid_per_epoch)
    p.add_argument('--valid-size', type=int, default=d.valid_size)
    p.add_argument('--train-size', type=int, default=d.train_size,
                   help='train on the first N training images (0: all that the validation split leaves)')
    p.add_argument('--device', default=d.device, help='cpu, cuda or cuda:N')
    p.add_argument('--threads', type=int, default=d.threads, help='CPU threads of each run')
    p.add_argument('--jobs', type=int, default=d.jobs, help='runs at once, each in its own process')
    p.add_argument('--data-dir', default=d.data_dir, help='folder holding MNIST/raw/*.gz (torchvision layout)')
    p.add_argument('--results-dir', default='results-tmp/mnist', help='where runs, checkpoints and report go')
    p.add_argument('--labml-dir', default='logs', help='where labml keeps its runs')
    p.add_argument('--labml-app', metavar='URL', help='also send each run to this labml app (default: offline)')
    p.add_argument('--no-labml', action='store_true', help='do not record labml runs')
    p.add_argument('--resume', action='store_true', help='continue the comparison in --results-dir')
    p.add_argument('--publish', action='store_true',
                   help='also write the report into labml_nn/optimizers/mnist_results/ (the site page)')
    return p


def check_settings(s: Settings):
    """Raise `UsageError` naming the first bad value."""
    unknown = [name for name in s.optimizers if name not in OPTIMIZERS]
    if unknown or not s.optimizers:
        raise UsageError(f'--optimizers: unknown {", ".join(unknown) or "(none given)"}; '
                         f'choose from {",".join(OPTIMIZERS)}')
    for option, minimum in (('seeds', 1), ('epochs', 1), ('sweep_epochs', 1), ('batch_size', 1),
                            ('valid_per_epoch', 1), ('valid_size', 1), ('train_size', 0), ('threads', 1),
                            ('jobs', 1)):
        value = getattr(s, option)
        if value < minimum:
            raise UsageError(f'--{option.replace("_", "-")} must be at least {minimum}, got {value}')
    device = s.device
    if device != 'cpu' and not (device == 'cuda' or (device.startswith('cuda:') and device[5:].isdigit())):
        raise UsageError(f'--device: {device!r} is not a device; use cpu, cuda or cuda:N')
    if device.startswith('cuda'):
        if not torch.cuda.is_available():
            raise UsageError(f'--device {device}: CUDA is not available on this machine; use --device cpu')
        index = int(device[5:]) if ':' in device else 0
        if index >= torch.cuda.device_count():
            raise UsageError(f'--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)')


def given_options(argv: List[str]) -> set:
    """The settings given on the command line (not left to their defaults)."""
    given = set()
    for arg in argv:
        if arg == '--all':
            given.add('optimizers')
        elif arg.startswith('--'):
            name = arg[2:].split('=', 1)[0].replace('-', '_')
            if name in SETTINGS_OPTIONS:
                given.add(name)
    return given


def resumed_settings(plan: Dict[str, Any], asked: Settings, given: set) -> Settings:
    """The plan's settings; `UsageError` naming every setting given now that differs from them."""
    saved = Settings(**plan['settings'])
    differ = [f'--{name.replace("_", "-")} {getattr(asked, name)!r} (the plan has {getattr(saved, name)!r})'
              for name in sorted(given) if getattr(asked, name) != getattr(saved, name)]
    if differ:
        raise UsageError('--resume: these arguments differ from the comparison being resumed: ' + '; '.join(differ)
                         + '. Resume with the original arguments, or start a new --results-dir')
    return saved


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    names = list(OPTIMIZERS) if args.all else [n.strip() for n in args.optimizers.split(',') if n.strip()]
    settings = Settings(optimizers=names, **{k: getattr(args, k) for k in SETTINGS_OPTIONS if k != 'optimizers'})
    results_dir = Path(args.results_dir)
    plan_file = results_dir / 'plan.json'
    command = 'python -m labml_nn.optimizers.mnist_experiment ' + shlex.join(argv)
    try:
        check_settings(settings)
        if args.resume:
            if not plan_file.exists():
                raise UsageError(f'--resume: no comparison to resume in {results_dir} (no plan.json)')
            plan = json.loads(plan_file.read_text())
            settings = resumed_settings(plan, settings, given_options(argv))
        elif plan_file.exists():
            raise UsageError(f'{results_dir} already holds a comparison; add --resume to continue it, '
                             f'or choose another --results-dir')
        # The data is checked before anything is written, so a missing file leaves nothing half-started behind
        load_mnist(settings.data_dir, valid_size=settings.valid_size)
    except UsageError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    except (MNISTDataError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1

    if args.resume:
        plan['commands'].append(command)
    else:
        plan = {'settings': asdict(settings), 'commands': [command], 'rates': {n: sweep_rates(n) for n in names}}
    plan['environment'] = environment(settings.device)
    (results_dir / 'runs').mkdir(parents=True, exist_ok=True)
    _atomic_write(json.dumps(plan, indent=1).encode(), plan_file)
    track = not args.no_labml
    if track:
        configure_labml(Path(args.labml_dir), args.labml_app)
    try:
        run_comparison(settings, results_dir, track=track, labml_dir=Path(args.labml_dir), app_url=args.labml_app,
                       progress=Progress(0))
    except Interrupted:
        print(f'Stopped. Checkpoints are in {results_dir / "checkpoints"}; '
              f'run the same command with --resume to continue.', file=sys.stderr)
        return 130
    from labml_nn.optimizers import mnist_report
    mnist_report.write_report(results_dir, results_dir)
    if args.publish:
        mnist_report.write_report(results_dir, mnist_report.PUBLISHED_DIR)
        print(f'Published to {mnist_report.PUBLISHED_DIR}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
