"""The MNIST experiment on tiny synthetic data: every optimizer learns, runs are reproducible, and an
interrupted comparison resumes to exactly the metrics of an uninterrupted one."""

import json
import os
import signal
import time

import pytest
import torch

from labml_nn.optimizers import mnist_experiment
from labml_nn.optimizers.mnist_data import load_mnist
from labml_nn.optimizers.mnist_experiment import (OPTIMIZERS, Configs, Interrupted, Net, Plan, Trainer, evaluate,
                                                  run_comparison)
from mnist_fixtures import use_synthetic_md5s, write_mnist

# Fields that measure time, not learning: they legitimately differ between runs.
TIME_FIELDS = {'epoch_time_s'}


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    d = tmp_path / 'data'
    use_synthetic_md5s(monkeypatch, write_mnist(d, n_train=240, n_test=60))
    return d


@pytest.fixture
def data(data_dir):
    # 200 training images in batches of 10: 20 steps per epoch
    return load_mnist(data_dir, valid_size=40, download=False)


def small_conf(optimizer='adam', seed=0, epochs=1, batch_size=10):
    conf = Configs()
    conf.optimizer, conf.seed, conf.epochs, conf.batch_size = optimizer, seed, epochs, batch_size
    conf.valid_per_epoch = 2
    return conf


def plan(data_dir, optimizers, seeds=(0,), epochs=2):
    return Plan(optimizers=list(optimizers), seeds=list(seeds),
                conf={'epochs': epochs, 'batch_size': 20, 'valid_per_epoch': 2, 'valid_size': 40,
                      'train_size': 0, 'device': 'cpu', 'threads': 1, 'data_dir': str(data_dir)})


def learning_metrics(metrics):
    """Everything but wall times and labml run ids."""
    runs = []
    for run in metrics['runs']:
        run = {k: v for k, v in run.items() if k != 'labml_uuid'}
        run['epochs'] = [{k: v for k, v in e.items() if k not in TIME_FIELDS} for e in run['epochs']]
        runs.append(run)
    return runs


@pytest.mark.parametrize('name', list(OPTIMIZERS))
def test_every_optimizer_trains_20_steps_and_the_loss_decreases(name, data):
    trainer = Trainer(small_conf(name), data, track=False)
    assert trainer.steps_per_epoch == 20
    before, _ = evaluate(trainer.model, data.train_images, data.train_labels)
    trainer.train()
    after, _ = evaluate(trainer.model, data.train_images, data.train_labels)
    assert trainer.global_step == 20
    assert after < before


def test_same_seed_gives_the_same_initial_weights_to_every_optimizer(data):
    weights = [Trainer(small_conf(name, seed=3), data, track=False).model.state_dict() for name in OPTIMIZERS]
    for w in weights[1:]:
        assert all(torch.equal(w[k], weights[0][k]) for k in w)
    other = Trainer(small_conf('adam', seed=4), data, track=False).model.state_dict()
    assert not torch.equal(other['conv1.weight'], weights[0]['conv1.weight'])


def test_same_seed_gives_the_same_metrics_and_another_seed_does_not(data_dir, tmp_path):
    first = run_comparison(plan(data_dir, ['adam', 'sgd_momentum']), tmp_path / 'a', track=False)
    second = run_comparison(plan(data_dir, ['adam', 'sgd_momentum']), tmp_path / 'b', track=False)
    assert learning_metrics(first) == learning_metrics(second)
    other = run_comparison(plan(data_dir, ['adam', 'sgd_momentum'], seeds=(1,)), tmp_path / 'c', track=False)
    assert learning_metrics(other)[0]['epochs'] != learning_metrics(first)[0]['epochs']


def test_ctrl_c_saves_a_checkpoint_and_resume_equals_an_uninterrupted_run(data_dir, tmp_path):
    optimizers = ['adam', 'noam']
    expected = run_comparison(plan(data_dir, optimizers, seeds=(0, 1)), tmp_path / 'whole', track=False)

    # Press Ctrl-C in the middle of the second epoch of the third run (adam, seed 1).
    calls = []

    def press_ctrl_c(trainer):
        calls.append((trainer.conf.optimizer, trainer.conf.seed, trainer.global_step))
        if (trainer.conf.optimizer, trainer.conf.seed, trainer.global_step) == ('adam', 1, 15):
            os.kill(os.getpid(), signal.SIGINT)

    results = tmp_path / 'interrupted'
    with pytest.raises(Interrupted):
        run_comparison(plan(data_dir, optimizers, seeds=(0, 1)), results, track=True, screen=False,
                       labml_dir=tmp_path / 'logs', on_step=press_ctrl_c)
    assert calls[-1] == ('adam', 1, 15)
    checkpoint = torch.load(results / 'checkpoint.pt', weights_only=False)
    assert (checkpoint['optimizer_name'], checkpoint['seed']) == ('adam', 1)
    assert (checkpoint['trainer']['epoch'], checkpoint['trainer']['step_in_epoch']) == (1, 5)
    assert sorted(p.name for p in (results / 'runs').iterdir()) == ['adam-seed0.json', 'noam-seed0.json']
    run_log = tmp_path / 'logs' / 'mnist_optimizers' / checkpoint['labml_uuid'] / 'run_log.jsonl'
    assert json.loads(run_log.read_text().splitlines()[-1])['status'] == 'interrupted'

    resumed = run_comparison(None, results, resume=True, track=True, screen=False, labml_dir=tmp_path / 'logs')
    assert learning_metrics(resumed) == learning_metrics(expected)
    assert not (results / 'checkpoint.pt').exists()
    # The resumed run continued the same labml run.
    assert resumed['runs'][2]['labml_uuid'] == checkpoint['labml_uuid']
    assert len(json.loads((results / 'plan.json').read_text())['commands']) == 2


def test_each_run_is_a_labml_experiment_with_configs_and_metrics_in_its_files(data_dir, tmp_path):
    metrics = run_comparison(plan(data_dir, ['radam'], epochs=1), tmp_path / 'res', track=True, screen=False,
                             labml_dir=tmp_path / 'logs')
    run_dir = tmp_path / 'logs' / 'mnist_optimizers' / metrics['runs'][0]['labml_uuid']
    configs = (run_dir / 'configs.yaml').read_text()
    assert 'radam' in configs and 'batch_size' in configs
    # labml's file writer writes from a background thread: give it a moment to finish.
    tracked = {}
    deadline = time.monotonic() + 20
    while 'accuracy.test' not in tracked and time.monotonic() < deadline:
        time.sleep(0.05)
        log = run_dir / 'log.jsonl'
        lines = log.read_text().splitlines() if log.exists() else []
        for line in lines:
            try:
                tracked.update(json.loads(line)['track'])
            except json.JSONDecodeError:  # a line still being written
                pass
    for key in ('loss.train', 'accuracy.train', 'loss.valid', 'accuracy.valid', 'loss.test', 'accuracy.test'):
        assert key in tracked
    assert tracked['accuracy.test'][-1][1][0] == pytest.approx(metrics['runs'][0]['test_accuracy'])


def test_a_new_comparison_refuses_to_overwrite_an_existing_one(data_dir, tmp_path):
    run_comparison(plan(data_dir, ['adam'], epochs=1), tmp_path / 'res', track=False)
    with pytest.raises(FileExistsError, match='--resume'):
        run_comparison(plan(data_dir, ['adam'], epochs=1), tmp_path / 'res', track=False)


def test_bad_settings_are_rejected_with_the_parameter_named(data_dir, data, tmp_path):
    with pytest.raises(ValueError, match='optimizers'):
        run_comparison(plan(data_dir, ['adam', 'nope']), tmp_path / 'res', track=False)
    with pytest.raises(ValueError, match='batch_size'):
        Trainer(small_conf(batch_size=0), data, track=False)


def test_the_model_is_the_classic_cnn():
    model = Net()
    shapes = [tuple(p.shape) for p in model.parameters()]
    assert shapes == [(20, 1, 5, 5), (20,), (50, 20, 5, 5), (50,), (500, 800), (500,), (10, 500), (10,)]
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_command_line_runs_a_comparison_and_writes_the_report(data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = mnist_experiment.main(['--optimizers', 'adam,torch_adam', '--epochs', '1', '--seeds', '2',
                                  '--batch-size', '50', '--valid-size', '40', '--data-dir', str(data_dir),
                                  '--results-dir', 'res', '--labml-dir', 'logs'])
    assert code == 0
    for name in ('metrics.json', 'metrics.csv', 'summary.csv', 'valid_loss.svg', 'valid_accuracy.png',
                 'readme.md'):
        assert (tmp_path / 'res' / name).exists()
    metrics = json.loads((tmp_path / 'res' / 'metrics.json').read_text())
    assert [(r['optimizer'], r['seed']) for r in metrics['runs']] == \
           [('adam', 0), ('torch_adam', 0), ('adam', 1), ('torch_adam', 1)]
