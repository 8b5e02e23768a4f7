"""The command line: user mistakes end with a one-line reason and an exit code, and leave nothing behind."""
import json
import urllib.error
import urllib.request

import pytest

from labml_nn.optimizers import mnist_experiment
from mnist_fixtures import use_synthetic_md5s, write_mnist


def _offline(url, timeout=None):
    raise urllib.error.URLError('offline')


def test_missing_data_prints_the_fix_without_a_traceback_and_leaves_no_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(urllib.request, 'urlopen', _offline)
    results = tmp_path / 'results'
    code = mnist_experiment.main(['--optimizers', 'adam', '--data-dir', str(tmp_path / 'data'),
                                  '--results-dir', str(results)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith('error: MNIST files not found') and 'Traceback' not in err
    assert 'train-images-idx3-ubyte.gz' in err
    # Nothing half-started, and no empty MNIST/raw/ left by the failed lookup
    assert not results.exists() and not (tmp_path / 'data').exists()


@pytest.mark.parametrize('args,named', [
    (['--epochs', '0'], '--epochs'), (['--batch-size', '0'], '--batch-size'), (['--seeds', '0'], '--seeds'),
    (['--sweep-epochs', '-1'], '--sweep-epochs'), (['--jobs', '0'], '--jobs'),
    (['--device', 'gpu'], "'gpu' is not a device"), (['--device', 'cuda'], 'CUDA is not available'),
    (['--optimizers', 'adam,adamz'], 'adamz'),
])
def test_bad_arguments_end_with_one_line_and_exit_2_before_anything_is_written(args, named, tmp_path, capsys):
    if args == ['--device', 'cuda'] and __import__('torch').cuda.is_available():
        pytest.skip('this machine has CUDA')
    code = mnist_experiment.main(args + ['--data-dir', str(tmp_path / 'none'), '--results-dir', str(tmp_path / 'r')])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count('\n') == 1 and err.startswith('error: ') and named in err
    assert not (tmp_path / 'none').exists() and not (tmp_path / 'r').exists()


def test_resume_with_changed_arguments_refuses_naming_them(tmp_path, monkeypatch, capsys):
    data = tmp_path / 'data'
    use_synthetic_md5s(monkeypatch, write_mnist(data))
    results = tmp_path / 'r'
    (results / 'runs').mkdir(parents=True)
    plan = {'settings': vars(mnist_experiment.Settings(optimizers=['adam'], epochs=2, data_dir=str(data))),
            'commands': ['python -m labml_nn.optimizers.mnist_experiment --epochs 2'], 'rates': {}}
    (results / 'plan.json').write_text(json.dumps(plan))
    code = mnist_experiment.main(['--resume', '--epochs', '3', '--seeds', '5', '--batch-size', '64',
                                  '--optimizers', 'adam', '--results-dir', str(results)])
    err = capsys.readouterr().err
    assert code == 2
    assert '--epochs 3 (the plan has 2)' in err and '--batch-size 64 (the plan has 128)' in err
    assert '--seeds' not in err  # unchanged
    assert json.loads((results / 'plan.json').read_text()) == plan


def test_a_new_comparison_refuses_a_folder_that_holds_one(tmp_path, capsys):
    (tmp_path / 'r').mkdir()
    (tmp_path / 'r' / 'plan.json').write_text('{}')
    assert mnist_experiment.main(['--results-dir', str(tmp_path / 'r')]) == 2
    assert 'add --resume' in capsys.readouterr().err
