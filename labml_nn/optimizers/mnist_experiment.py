r"""
---
title: MNIST experiment comparing the optimizers
summary: Trains the same small CNN on MNIST with every optimizer of this package plus PyTorch baselines, with the same initial weights and data order, and publishes the comparison.
---

# MNIST experiment comparing the optimizers

This experiment trains one small convolutional network on [MNIST](http://yann.lecun.com/exdb/mnist/)
with each optimizer of this package ([Adam](adam.html), [AMSGrad](amsgrad.html), [RAdam](radam.html),
[AdaBelief](ada_belief.html) and the warm-up variants
[AdamWarmup](adam_warmup.html), [AdamWarmupCosineDecay](adam_warmup_cosine_decay.html) and [Noam](noam.html)),
and with `torch.optim.Adam` and SGD with momentum as baselines.

Runs are made comparable: for a given seed every optimizer starts from the **same initial weights** and
sees the **same batches in the same order**. Learning rates and the other settings come from the
table [`OPTIMIZERS`](#optimizers) below, not from hidden defaults.

Each (optimizer, seed) pair is one [labml](https://github.com/labmlai/labml) experiment: its configs are
recorded, its train and validation metrics are written to the run's files by labml's file writer, and
`monit` shows progress bars with the step, the loss and the time left.

```bash
python -m labml_nn.optimizers.mnist_experiment --optimizers adam,radam,adabelief --epochs 3 --seeds 3 \
    --device cpu --data-dir data
python -m labml_nn.optimizers.mnist_experiment --all --epochs 3 --seeds 3 --data-dir data --publish
```

A comparison writes its results folder as it goes: one JSON file per finished run, and a checkpoint of the
run in progress. **Ctrl-C** saves the checkpoint (model, optimizer state and position in the data) and
stops; running the same command with `--resume` continues from there, and the final metrics are the same
as those of an uninterrupted run. When all runs are done the tool writes the report
(JSON, CSV, plots and a page, see [`mnist_report`](mnist_report.html)).

**Results** of the committed comparison (every optimizer, 3 seeds, 3 epochs on CPU) are on the page
[Optimizers on MNIST: results](mnist_results/readme.html).
"""

import argparse
import importlib
import json
import math
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from labml import experiment, lab, monit, tracker
from labml.configs import BaseConfigs

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
# Each entry names the class and every setting we pass to it. This is the only place where learning rates
# are set. Adaptive methods use the common $\alpha = 10^{-3}$, $\beta = (0.9, 0.999)$; `eps` is passed
# explicitly because the package's classes and `torch.optim` do not share a default.
#
# * The warm-up variants ramp the learning rate up over the first 100 steps
#   (or a tenth of the run when that is shorter, for quick trials).
#   `AdamWarmupCosineDecay` then decays it to zero over the whole run (`total_steps` is filled in from the
#   number of epochs and batches).
# * `Noam` uses $\alpha \, d_{model}^{-1/2} \min\big(t^{-1/2}, t \cdot w^{-3/2}\big)$; with
#   $\alpha = 0.25$, $d_{model} = 512$ and $w = 100$ its peak learning rate is
#   $0.25 \cdot 512^{-1/2} \cdot 100^{-1/2} \approx 1.1 \times 10^{-3}$, comparable with the others.
# * SGD with momentum $0.9$ uses $\alpha = 0.02$.
@dataclass(frozen=True)
class OptimizerSpec:
    module: str
    cls: str
    settings: Dict[str, Any]
    # Settings computed from the run (e.g. `total_steps`).
    from_run: tuple = ()


ADAM_BETAS = (0.9, 0.999)

OPTIMIZERS: Dict[str, OptimizerSpec] = {
    'adam': OptimizerSpec('labml_nn.optimizers.adam', 'Adam',
                          dict(lr=1e-3, betas=ADAM_BETAS, eps=1e-8)),
    'amsgrad': OptimizerSpec('labml_nn.optimizers.amsgrad', 'AMSGrad',
                             dict(lr=1e-3, betas=ADAM_BETAS, eps=1e-8)),
    'radam': OptimizerSpec('labml_nn.optimizers.radam', 'RAdam',
                           dict(lr=1e-3, betas=ADAM_BETAS, eps=1e-8)),
    'adabelief': OptimizerSpec('labml_nn.optimizers.ada_belief', 'AdaBelief',
                               dict(lr=1e-3, betas=ADAM_BETAS, eps=1e-16)),
    'adam_warmup': OptimizerSpec('labml_nn.optimizers.adam_warmup', 'AdamWarmup',
                                 dict(lr=1e-3, betas=ADAM_BETAS, eps=1e-8, warmup=100)),
    'adam_warmup_cosine_decay': OptimizerSpec('labml_nn.optimizers.adam_warmup_cosine_decay',
                                              'AdamWarmupCosineDecay',
                                              dict(lr=1e-3, betas=ADAM_BETAS, eps=1e-8, warmup=100),
                                              from_run=('total_steps',)),
    'noam': OptimizerSpec('labml_nn.optimizers.noam', 'Noam',
                          dict(lr=0.25, betas=ADAM_BETAS, eps=1e-8, warmup=100, d_model=512)),
    'torch_adam': OptimizerSpec('torch.optim', 'Adam',
                                dict(lr=1e-3, betas=ADAM_BETAS, eps=1e-8)),
    'sgd_momentum': OptimizerSpec('torch.optim', 'SGD',
                                  dict(lr=0.02, momentum=0.9)),
}


def optimizer_settings(name: str, total_steps: int) -> Dict[str, Any]:
    """The keyword arguments given to optimizer `name`, with the run-dependent ones filled in."""
    if name not in OPTIMIZERS:
        raise ValueError(f'optimizers: unknown optimizer {name!r}; choose from {", ".join(OPTIMIZERS)}')
    spec = OPTIMIZERS[name]
    settings = dict(spec.settings)
    if 'total_steps' in spec.from_run:
        settings['total_steps'] = total_steps
    # Short trial runs (a few batches) keep the warm-up to a tenth of the run, so that it ends.
    if 'warmup' in settings:
        settings['warmup'] = max(1, min(settings['warmup'], total_steps // 10))
    return settings


def make_optimizer(name: str, params, total_steps: int) -> torch.optim.Optimizer:
    spec = OPTIMIZERS[name]
    cls = getattr(importlib.import_module(spec.module), spec.cls)
    return cls(params, **optimizer_settings(name, total_steps))


# ## Configurations
#
# The settings of one run, as labml configs, so that labml records them with the run.
class Configs(BaseConfigs):
    # Which optimizer from `OPTIMIZERS`
    optimizer: str = 'adam'
    # The settings passed to it (filled in from the table)
    optimizer_settings: Dict[str, Any] = {}
    # Seed for the initial weights and the data order
    seed: int = 0
    epochs: int = 3
    batch_size: int = 128
    # Validation evaluations per epoch; their points make the curves against step
    valid_per_epoch: int = 4
    # Training images held out for validation (the last ones of the training file)
    valid_size: int = 5000
    # Use only the first `train_size` training images (0: all); for quick trials
    train_size: int = 0
    device: str = 'cpu'
    threads: int = 1
    data_dir: str = 'data'


# ## Stopping on Ctrl-C
#
# The first Ctrl-C only sets a flag; training checks it between steps, so the checkpoint is always taken at a
# step boundary (never half-way through an optimizer update). A second Ctrl-C stops at once.
class StopRequest:
    def __init__(self):
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print('\nCtrl-C: saving a checkpoint at the end of this step (press again to stop at once)',
              file=sys.stderr, flush=True)

    def __enter__(self):
        self.requested = False
        self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self._previous)


class Interrupted(KeyboardInterrupt):
    """Training stopped on request; the checkpoint is saved. (A `KeyboardInterrupt`, so labml marks the run
    as interrupted rather than crashed.)"""


def _epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    # The data order depends only on the seed and the epoch, so a resumed run can recompute it
    # instead of storing it, and every optimizer sees the same batches for a given seed.
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator)


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 2000):
    """Mean cross-entropy and accuracy over a whole split."""
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=images.device)
    correct = torch.zeros((), dtype=torch.int64, device=images.device)
    for i in range(0, len(images), batch_size):
        logits = model(images[i:i + batch_size])
        y = labels[i:i + batch_size]
        loss_sum += F.cross_entropy(logits, y, reduction='sum').double()
        correct += (logits.argmax(-1) == y).sum()
    model.train()
    return loss_sum.item() / len(images), correct.item() / len(images)


def _atomic_save(obj, path: Path):
    tmp = path.with_name(path.name + '.tmp')
    torch.save(obj, tmp)
    os.replace(tmp, path)


# ## Training one run
#
# `Trainer` trains one optimizer with one seed. It keeps everything needed to continue in `state_dict()`:
# model, optimizer, position in the data, the running sums of the current epoch and the metrics so far.
class Trainer:
    def __init__(self, conf: Configs, data: MNISTTensors, *, track: bool = True,
                 on_step: Optional[Callable[['Trainer'], None]] = None):
        self.conf = conf
        self.data = data
        self.device = torch.device(conf.device)
        self.track = track
        self.on_step = on_step

        self.n_train = len(data.train_images)
        if conf.batch_size <= 0:
            raise ValueError(f'batch_size must be positive, got {conf.batch_size}')
        if conf.epochs <= 0:
            raise ValueError(f'epochs must be positive, got {conf.epochs}')
        if conf.valid_per_epoch <= 0:
            raise ValueError(f'valid_per_epoch must be positive, got {conf.valid_per_epoch}')
        self.steps_per_epoch = math.ceil(self.n_train / conf.batch_size)
        self.total_steps = self.steps_per_epoch * conf.epochs
        # Validation points: evenly spaced in each epoch, the last one at the end of the epoch.
        self.valid_at = {round(k * self.steps_per_epoch / conf.valid_per_epoch)
                         for k in range(1, conf.valid_per_epoch + 1)}

        # The same seed gives the same initial weights, whatever the optimizer.
        torch.manual_seed(conf.seed)
        self.model = Net().to(self.device)
        self.optimizer = make_optimizer(conf.optimizer, self.model.parameters(), self.total_steps)

        # Position in the data: the next step to take
        self.epoch = 0
        self.step_in_epoch = 0
        self.global_step = 0
        # Running sums of the current epoch, kept on the device so there is no sync per step
        self._reset_epoch_sums()
        self.epoch_time = 0.0
        # Metrics so far
        self.epochs: List[Dict[str, float]] = []
        self.curve: List[Dict[str, float]] = []
        self.test: Dict[str, float] = {}

    def _reset_epoch_sums(self):
        self.loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        self.correct_sum = torch.zeros((), dtype=torch.int64, device=self.device)
        self.seen = 0

    def state_dict(self) -> Dict[str, Any]:
        return {
            'model': self.model.state_dict(),
            'optimizer': self.optimizer.state_dict(),
            'epoch': self.epoch,
            'step_in_epoch': self.step_in_epoch,
            'global_step': self.global_step,
            'loss_sum': self.loss_sum.cpu(),
            'correct_sum': self.correct_sum.cpu(),
            'seen': self.seen,
            'epoch_time': self.epoch_time,
            'epochs': self.epochs,
            'curve': self.curve,
            'test': self.test,
        }

    def load_state_dict(self, state: Dict[str, Any]):
        self.model.load_state_dict(state['model'])
        self.optimizer.load_state_dict(state['optimizer'])
        self.epoch = state['epoch']
        self.step_in_epoch = state['step_in_epoch']
        self.global_step = state['global_step']
        self.loss_sum = state['loss_sum'].to(self.device)
        self.correct_sum = state['correct_sum'].to(self.device)
        self.seen = state['seen']
        self.epoch_time = state['epoch_time']
        self.epochs = list(state['epochs'])
        self.curve = list(state['curve'])
        self.test = dict(state.get('test', {}))

    def _sync(self):
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)

    def _validate(self):
        loss, accuracy = evaluate(self.model, self.data.valid_images, self.data.valid_labels)
        self.curve.append({'step': self.global_step, 'valid_loss': loss, 'valid_accuracy': accuracy})
        if self.track:
            tracker.save(self.global_step, {'loss.valid': loss, 'accuracy.valid': accuracy})
        return loss, accuracy

    # ### One step
    #
    # Take the batch at `step_in_epoch` of this epoch's order, compute the cross-entropy, back-propagate and
    # let the optimizer update the weights.
    def _train_step(self, order: torch.Tensor):
        bs = self.conf.batch_size
        idx = order[self.step_in_epoch * bs:(self.step_in_epoch + 1) * bs]
        x, y = self.data.train_images[idx], self.data.train_labels[idx]

        logits = self.model(x)
        loss = F.cross_entropy(logits, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

        # Running sums for the epoch's train loss and accuracy
        self.loss_sum += loss.detach().double() * len(y)
        self.correct_sum += (logits.detach().argmax(-1) == y).sum()
        self.seen += len(y)
        self.step_in_epoch += 1
        self.global_step += 1

    # ### The training loop
    #
    # Returns when all epochs are done, or raises `Interrupted` after calling `save_checkpoint` when
    # `stop.requested` becomes true.
    def train(self, stop: Optional[StopRequest] = None, save_checkpoint: Optional[Callable[[], None]] = None):
        log_every = 10
        if self.track:
            tracker.set_global_step(self.global_step)
        for epoch in monit.loop(range(self.epoch, self.conf.epochs)):
            self.epoch = epoch
            order = _epoch_order(self.conf.seed, epoch, self.n_train).to(self.device)
            self._sync()
            start = time.perf_counter()
            # The progress bar shows the epoch, the step, the losses and the time left.
            for _ in monit.iterate(f'Epoch {epoch + 1}/{self.conf.epochs}',
                                   range(self.step_in_epoch, self.steps_per_epoch)):
                if stop is not None and stop.requested:
                    self._sync()
                    self.epoch_time += time.perf_counter() - start
                    if save_checkpoint is not None:
                        save_checkpoint()
                    raise Interrupted()
                self._train_step(order)
                if self.track:
                    tracker.add_global_step()
                    if self.global_step % log_every == 0:
                        tracker.save({'loss.train': self.loss_sum.item() / self.seen,
                                      'accuracy.train': self.correct_sum.item() / self.seen})
                if self.step_in_epoch in self.valid_at:
                    self._validate()
                if self.on_step is not None:
                    self.on_step(self)

            # End of the epoch: record its metrics
            self._sync()
            self.epoch_time += time.perf_counter() - start
            last = self.curve[-1]
            self.epochs.append({
                'epoch': epoch + 1,
                'step': self.global_step,
                'train_loss': self.loss_sum.item() / self.seen,
                'train_accuracy': self.correct_sum.item() / self.seen,
                'valid_loss': last['valid_loss'],
                'valid_accuracy': last['valid_accuracy'],
                'epoch_time_s': self.epoch_time,
            })
            self.epoch += 1
            self.step_in_epoch = 0
            self.epoch_time = 0.0
            self._reset_epoch_sums()
            if self.track:
                tracker.new_line()
            # The test set is used once, after the last epoch (inside the loop, where labml still writes).
            if self.epoch == self.conf.epochs:
                self._test()
            # A checkpoint at every epoch end, so a crash loses at most one epoch.
            if save_checkpoint is not None:
                save_checkpoint()

        # A run resumed from a checkpoint taken after its last epoch has not been tested yet.
        if not self.test:
            self._test()
        return self.result()

    def _test(self):
        test_loss, test_accuracy = evaluate(self.model, self.data.test_images, self.data.test_labels)
        self.test = {'test_loss': test_loss, 'test_accuracy': test_accuracy}
        if self.track:
            tracker.save(self.global_step, {'loss.test': test_loss, 'accuracy.test': test_accuracy})
            tracker.new_line()

    def result(self) -> Dict[str, Any]:
        return {'optimizer': self.conf.optimizer, 'seed': self.conf.seed,
                'settings': optimizer_settings(self.conf.optimizer, self.total_steps),
                'steps_per_epoch': self.steps_per_epoch,
                'epochs': self.epochs, 'curve': self.curve, **self.test}


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
        matplotlib_version = importlib.import_module('matplotlib').__version__
    except ImportError:
        matplotlib_version = None
    try:
        commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=Path(__file__).parent, capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    env = {
        'python': platform.python_version(),
        'torch': torch.__version__,
        'labml': getattr(labml, '__version__', None),
        'numpy': numpy.__version__,
        'matplotlib': matplotlib_version,
        'platform': platform.platform(),
        'cpu': cpu,
        'cpu_count': os.cpu_count(),
        'torch_threads': torch.get_num_threads(),
        'device': device,
        'git_commit': commit or os.environ.get('MNIST_SOURCE_COMMIT'),
    }
    if device.startswith('cuda'):
        env['gpu'] = torch.cuda.get_device_name(torch.device(device))
    return env


# ## A comparison: every optimizer and seed
#
# The results folder holds:
#
# * `plan.json`: the optimizers, seeds and settings, the command and the environment;
# * `runs/OPTIMIZER-seedN.json`: one file per finished run, written as soon as it finishes;
# * `checkpoint.pt`: the run in progress.
#
# `--resume` skips finished runs and continues the one in the checkpoint.
@dataclass
class Plan:
    optimizers: List[str]
    seeds: List[int]
    conf: Dict[str, Any]
    commands: List[str] = field(default_factory=list)
    environment: Dict[str, Any] = field(default_factory=dict)


def _run_file(results_dir: Path, optimizer: str, seed: int) -> Path:
    return results_dir / 'runs' / f'{optimizer}-seed{seed}.json'


def run_comparison(plan: Plan, results_dir: Path, *, resume: bool = False, data: Optional[MNISTTensors] = None,
                   labml_dir: Optional[Path] = None, track: bool = True, screen: bool = True,
                   on_step: Optional[Callable[[Trainer], None]] = None) -> Dict[str, Any]:
    """
    Train every (optimizer, seed) of `plan`, writing results to `results_dir`.
    Raises `Interrupted` after saving a checkpoint when Ctrl-C is pressed.
    Returns all results, as also written to `results_dir/metrics.json`.
    """
    results_dir = Path(results_dir)
    plan_file = results_dir / 'plan.json'
    checkpoint = results_dir / 'checkpoint.pt'
    command = 'python -m labml_nn.optimizers.mnist_experiment ' + shlex.join(sys.argv[1:])

    if resume:
        if not plan_file.exists():
            raise FileNotFoundError(f'--resume: no comparison to resume in {results_dir} (no plan.json)')
        saved = json.loads(plan_file.read_text())
        plan = Plan(**saved)
        plan.commands.append(command)
    else:
        if plan_file.exists():
            raise FileExistsError(f'{results_dir} already holds a comparison; '
                                  f'add --resume to continue it, or choose another --results-dir')
        for name in plan.optimizers:
            optimizer_settings(name, 1)  # fail early on an unknown name
        plan.commands = [command]

    # The device and the data are checked before anything is written, so a missing file leaves no
    # half-started comparison behind (and the same command works once the files are there).
    device = plan.conf['device']
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise ValueError(f'device: {device} was asked for but CUDA is not available')
    if device == 'cpu':
        torch.set_num_threads(plan.conf.get('threads', 1))
    if data is None:
        data = load_mnist(plan.conf['data_dir'], valid_size=plan.conf['valid_size'])
        if plan.conf.get('train_size'):
            n = plan.conf['train_size']
            data.train_images, data.train_labels = data.train_images[:n], data.train_labels[:n]
    data = data.to(device)

    (results_dir / 'runs').mkdir(parents=True, exist_ok=True)
    plan.environment = environment(device)
    plan_file.write_text(json.dumps(plan.__dict__, indent=1))

    if track:
        lab.configure({'path': str(Path.cwd()),
                       'experiments_path': str(Path(labml_dir or 'logs').resolve())})

    pending = checkpoint_state = None
    if resume and checkpoint.exists():
        checkpoint_state = torch.load(checkpoint, weights_only=False)
        pending = (checkpoint_state['optimizer_name'], checkpoint_state['seed'])

    with StopRequest() as stop:
        for seed in plan.seeds:
            for name in plan.optimizers:
                if _run_file(results_dir, name, seed).exists():
                    continue
                steps = math.ceil(len(data.train_images) / plan.conf['batch_size']) * plan.conf['epochs']
                values = {**plan.conf, 'optimizer': name, 'seed': seed,
                          'optimizer_settings': optimizer_settings(name, steps)}
                conf = Configs()
                uuid = None
                if pending == (name, seed):
                    uuid = checkpoint_state.get('labml_uuid')
                    if track and uuid:
                        # labml refuses to restart a run whose `run.pid` is still there; the process that
                        # wrote it has stopped.
                        stale_pid = Path(lab.get_experiments_path()) / 'mnist_optimizers' / uuid / 'run.pid'
                        if stale_pid.exists():
                            stale_pid.unlink()
                if track:
                    # Resuming continues the same labml run.
                    experiment.create(uuid=uuid, name='mnist_optimizers', comment=f'{name} seed {seed}',
                                      writers={'screen', 'file'} if screen else {'file'})
                    # labml records these as the run's configs.
                    experiment.configs(conf, values)
                else:
                    for k, v in values.items():
                        setattr(conf, k, v)
                trainer = Trainer(conf, data, track=track, on_step=on_step)
                if pending == (name, seed):
                    trainer.load_state_dict(checkpoint_state['trainer'])
                run_id = {'optimizer_name': name, 'seed': seed, 'labml_uuid': uuid}

                def save_checkpoint():
                    # The checkpoint says which run it belongs to.
                    _atomic_save({**run_id, 'trainer': trainer.state_dict()}, checkpoint)

                if track:
                    run_id['labml_uuid'] = experiment.get_uuid()
                    with _labml_run():
                        result = trainer.train(stop, save_checkpoint)
                else:
                    result = trainer.train(stop, save_checkpoint)
                result['labml_uuid'] = run_id['labml_uuid']
                _run_file(results_dir, name, seed).write_text(json.dumps(result, indent=1))
                if checkpoint.exists():
                    checkpoint.unlink()

    from labml_nn.optimizers.mnist_report import collect_results
    return collect_results(results_dir)


@contextmanager
def _labml_run():
    """`experiment.start()`, except that a Ctrl-C with a saved checkpoint is recorded as `interrupted`
    (labml's watcher only recognises an exact `KeyboardInterrupt`)."""
    watcher = experiment.start()
    try:
        yield
    except Interrupted:
        watcher.__exit__(KeyboardInterrupt, None, None)
        raise
    except BaseException as e:
        watcher.__exit__(type(e), e, e.__traceback__)
        raise
    watcher.__exit__(None, None, None)


# ## Command line
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog='python -m labml_nn.optimizers.mnist_experiment',
                                description='Compare optimizers on MNIST with a small CNN.')
    p.add_argument('--optimizers', default='adam,radam,adabelief',
                   help=f'comma-separated names from: {", ".join(OPTIMIZERS)}')
    p.add_argument('--all', action='store_true', help='every optimizer of the table')
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--seeds', type=int, default=3, help='number of seeds: 0, 1, ..., N-1')
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--valid-per-epoch', type=int, default=4)
    p.add_argument('--valid-size', type=int, default=5000)
    p.add_argument('--train-size', type=int, default=0, help='use only the first N training images (0: all)')
    p.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    p.add_argument('--threads', type=int, default=1, help='CPU threads for torch')
    p.add_argument('--data-dir', default='data', help='folder holding MNIST/raw/*.gz (torchvision layout)')
    p.add_argument('--results-dir', default='results-tmp/mnist', help='where runs, checkpoint and report go')
    p.add_argument('--labml-dir', default='logs', help='where labml keeps its runs')
    p.add_argument('--resume', action='store_true', help='continue the comparison in --results-dir')
    p.add_argument('--publish', action='store_true',
                   help='also write the report into labml_nn/optimizers/mnist_results/ (the site page)')
    args = p.parse_args(argv)
    if args.seeds <= 0:
        p.error('--seeds must be positive')
    return args


def main(argv=None):
    args = parse_args(argv)
    names = list(OPTIMIZERS) if args.all else [n.strip() for n in args.optimizers.split(',') if n.strip()]
    # Check the names before any data is read, so a typo costs nothing.
    unknown = [name for name in names if name not in OPTIMIZERS]
    if unknown or not names:
        print(f'error: --optimizers: unknown {", ".join(unknown) or "(none given)"}; '
              f'choose from {",".join(OPTIMIZERS)}', file=sys.stderr)
        return 2
    plan = Plan(optimizers=names, seeds=list(range(args.seeds)),
                conf={'epochs': args.epochs, 'batch_size': args.batch_size,
                      'valid_per_epoch': args.valid_per_epoch, 'valid_size': args.valid_size,
                      'train_size': args.train_size, 'device': args.device, 'threads': args.threads,
                      'data_dir': args.data_dir})
    results_dir = Path(args.results_dir)
    try:
        run_comparison(plan, results_dir, resume=args.resume, labml_dir=Path(args.labml_dir))
    except MNISTDataError as error:
        # Missing or corrupt data files: the message names them and says what to do; a traceback adds nothing.
        print(f'error: {error}', file=sys.stderr)
        return 1
    except Interrupted:
        print(f'\nStopped. Checkpoint saved in {results_dir / "checkpoint.pt"}; '
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
