"""The MNIST experiment on tiny synthetic data: every optimizer learns, the sweep picks the rate by validation loss,
an interrupted run resumes exactly, and a whole comparison writes its report."""

import json
import math

import pytest

from labml_nn.optimizers import mnist_experiment
from labml_nn.optimizers.mnist_data import load_mnist
from labml_nn.optimizers.mnist_experiment import (OPTIMIZERS, Interrupted, Job, Progress, Settings, Trainer,
                                                  choose_rate, sweep_rates)
from mnist_fixtures import use_synthetic_md5s, write_mnist


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    d = tmp_path / 'data'
    use_synthetic_md5s(monkeypatch, write_mnist(d, n_train=240, n_test=60))
    return d


@pytest.fixture
def data(data_dir):
    # 200 training images in batches of 10: 20 steps per epoch
    return load_mnist(data_dir, valid_size=40, download=False)


def settings(**kw):
    return Settings(optimizers=['adam'], batch_size=10, valid_per_epoch=2, valid_size=40, train_size=0, **kw)


@pytest.mark.parametrize('name', list(OPTIMIZERS))
def test_every_optimizer_trains_20_steps_at_its_grid_centre_and_the_loss_decreases(name, data):
    job = Job('final', name, OPTIMIZERS[name].center_lr, 'constant', 0, 1)
    trainer = Trainer(job, settings(), data)
    losses = []
    trainer.train(on_step=lambda t: losses.append(t.loss_sum.item() / t.seen))
    result = trainer.result()
    assert len(losses) == 20 and losses[-1] < losses[0]
    assert 0 <= result['test_accuracy'] <= 1 and len(result['test_wrong']) == round((1 - result['test_accuracy']) * 60)
    assert result['epochs'][0]['epoch_cpu_s'] > 0


def test_sweep_rates_are_five_half_decades_around_the_centre():
    assert sweep_rates('adam') == [1e-4, 3.16e-4, 1e-3, 3.16e-3, 1e-2]


def test_the_sweep_picks_the_rate_with_the_lowest_validation_loss_and_never_a_diverged_one():
    def run(lr, loss):
        return {'lr': lr, 'epochs': [{'valid_loss': loss}]}
    assert choose_rate([run(1e-3, 0.3), run(3e-3, 0.1), run(1e-2, 0.2)]) == 3e-3
    assert choose_rate([run(1e-3, 0.3), run(3e-3, math.nan), run(1e-2, 0.2)]) == 1e-2


@pytest.mark.parametrize('schedule', ['constant', 'cosine'])
def test_an_interrupted_run_resumes_to_the_same_result(schedule, data):
    job = Job('final', 'sophia', 3e-4, schedule, 1, 2)
    whole = Trainer(job, settings(), data).train()
    first = Trainer(job, settings(), data)
    saved = {}
    with pytest.raises(Interrupted):
        first.train(stop=lambda: first.global_step == 27, save_checkpoint=lambda: saved.update(first.state_dict()))
    second = Trainer(job, settings(), data)
    second.load_state_dict(saved)
    resumed = second.train()
    drop = ('epochs',)
    assert {k: v for k, v in resumed.items() if k not in drop} == {k: v for k, v in whole.items() if k not in drop}
    for a, b in zip(resumed['epochs'], whole['epochs']):
        assert a['valid_loss'] == b['valid_loss'] and a['train_loss'] == b['train_loss']


def test_the_progress_line_fits_in_80_columns():
    progress = Progress(300)
    progress.done = 7
    long = 'adam_warmup_cosine_decay final lr=0.000316 cosine s4: valid loss 0.1234 ' * 3
    assert len(progress.line(long)) <= 79


def test_a_whole_comparison_in_two_workers_writes_its_report(data_dir, tmp_path, monkeypatch):
    results = tmp_path / 'results'
    # The workers are new processes: they read the synthetic files with their own MD5s, so none are checked there
    code = mnist_experiment.main(['--optimizers', 'adam,noam', '--seeds', '2', '--epochs', '1', '--batch-size', '20',
                                  '--valid-size', '40', '--train-size', '0', '--data-dir', str(data_dir),
                                  '--results-dir', str(results), '--no-labml'])
    assert code == 0
    metrics = json.loads((results / 'metrics.json').read_text())
    assert sum(r['phase'] == 'sweep' for r in metrics['runs']) == 10
    # adam: constant and cosine; noam: its own schedule
    assert sum(r['phase'] == 'final' for r in metrics['runs']) == 2 * 2 + 2
    page = (results / 'readme.md').read_text()
    assert 'With the same cosine decay for all' in page and 'peak' in page
