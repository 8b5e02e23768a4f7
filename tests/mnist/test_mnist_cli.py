"""The command line: user mistakes end with a one-line reason and an exit code, and leave nothing behind."""
import urllib.error
import urllib.request

from labml_nn.optimizers import mnist_experiment


def _offline(url, timeout=None):
    raise urllib.error.URLError('offline')


def test_missing_data_prints_the_fix_without_a_traceback_and_writes_no_results(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(urllib.request, 'urlopen', _offline)
    results = tmp_path / 'results'
    code = mnist_experiment.main(['--optimizers', 'adam', '--epochs', '1', '--seeds', '1',
                                  '--data-dir', str(tmp_path / 'data'), '--results-dir', str(results)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith('error: MNIST files not found') and 'Traceback' not in err
    assert 'train-images-idx3-ubyte.gz' in err
    # Nothing half-started: the same command works once the files are in place.
    assert not results.exists()


def test_unknown_optimizer_name_is_rejected_before_any_data_is_read(tmp_path, capsys):
    code = mnist_experiment.main(['--optimizers', 'adam,adamz', '--data-dir', str(tmp_path / 'none'),
                                  '--results-dir', str(tmp_path / 'results')])
    err = capsys.readouterr().err
    assert code == 2
    assert 'adamz' in err and 'radam' in err
    assert not (tmp_path / 'none').exists() and not (tmp_path / 'results').exists()
