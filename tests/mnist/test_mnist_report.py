"""The results page and its tables and plots are generated from a results file."""

import csv
import json

import pytest

from labml_nn.optimizers import mnist_report


def fake_run(optimizer, seed, test_accuracy, test_loss, valid):
    epochs = [{'epoch': e + 1, 'step': 10 * (e + 1), 'train_loss': 0.5 / (e + 1), 'train_accuracy': 0.9,
               'valid_loss': 0.3 / (e + 1), 'valid_accuracy': v, 'epoch_time_s': 2.0 + e}
              for e, v in enumerate(valid)]
    curve = [{'step': 5 * (i + 1), 'valid_loss': 0.4 / (i + 1), 'valid_accuracy': 0.8 + 0.01 * i + 0.001 * seed}
             for i in range(4)]
    return {'optimizer': optimizer, 'seed': seed, 'settings': {'lr': 0.001 if optimizer == 'adam' else 0.02},
            'steps_per_epoch': 10, 'epochs': epochs, 'curve': curve,
            'test_loss': test_loss, 'test_accuracy': test_accuracy}


@pytest.fixture
def results_dir(tmp_path):
    d = tmp_path / 'results'
    (d / 'runs').mkdir(parents=True)
    plan = {'optimizers': ['adam', 'sgd_momentum'], 'seeds': [0, 1],
            'conf': {'epochs': 2, 'batch_size': 64, 'valid_per_epoch': 2, 'valid_size': 5000, 'train_size': 0,
                     'device': 'cpu', 'threads': 1, 'data_dir': 'data'},
            'commands': ['python -m labml_nn.optimizers.mnist_experiment --optimizers adam,sgd_momentum'],
            'environment': {'python': '3.11.7', 'torch': '2.13.0+cpu', 'cpu': 'Test CPU', 'device': 'cpu'}}
    (d / 'plan.json').write_text(json.dumps(plan))
    runs = [fake_run('adam', 0, 0.9871, 0.041, [0.97, 0.98]), fake_run('adam', 1, 0.9865, 0.043, [0.97, 0.99]),
            fake_run('sgd_momentum', 0, 0.9750, 0.080, [0.95, 0.96]),
            fake_run('sgd_momentum', 1, 0.9770, 0.070, [0.95, 0.97])]
    for r in runs:
        (d / 'runs' / f'{r["optimizer"]}-seed{r["seed"]}.json').write_text(json.dumps(r))
    return d


def test_page_is_generated_from_the_results_file_with_mean_and_std(results_dir, tmp_path):
    mnist_report.collect_results(results_dir)
    out = tmp_path / 'page'
    page = mnist_report.write_page(results_dir / 'metrics.json', out)
    text = page.read_text()
    # mean 98.68 %, sample std of (98.71, 98.65) = 0.0424 %
    assert '| Adam | 0.001 | 98.68\u202f±\u202f0.04 | 0.0420\u202f±\u202f0.0014 | 98.50\u202f±\u202f0.71 | 2.5 |' in text
    assert '| SGD + momentum | 0.02 | 97.60\u202f±\u202f0.14 |' in text
    assert 'python -m labml_nn.optimizers.mnist_experiment --optimizers adam,sgd_momentum' in text
    assert '2.13.0+cpu' in text and 'Test CPU' in text
    assert '![Validation loss against step](valid_loss.svg)' in text
    for name in ('valid_loss.svg', 'valid_loss.png', 'valid_accuracy.svg', 'valid_accuracy.png', 'metrics.json'):
        assert (out / name).stat().st_size > 0

    rows = list(csv.DictReader(open(out / 'metrics.csv')))
    assert len(rows) == 8
    assert rows[1]['test_accuracy'] == '0.9871' and rows[0]['test_accuracy'] == ''
    summary = list(csv.DictReader(open(out / 'summary.csv')))
    assert float(summary[1]['test_accuracy_mean']) == pytest.approx(0.976)


def test_svg_plots_are_byte_for_byte_reproducible(results_dir, tmp_path):
    mnist_report.collect_results(results_dir)
    mnist_report.write_page(results_dir / 'metrics.json', tmp_path / 'a')
    mnist_report.write_page(results_dir / 'metrics.json', tmp_path / 'b')
    for name in ('valid_loss.svg', 'valid_accuracy.svg', 'readme.md'):
        assert (tmp_path / 'a' / name).read_bytes() == (tmp_path / 'b' / name).read_bytes()


def test_report_refuses_unfinished_comparisons(results_dir):
    (results_dir / 'runs' / 'adam-seed1.json').unlink()
    with pytest.raises(FileNotFoundError, match='adam-seed1.json'):
        mnist_report.collect_results(results_dir)


def test_every_table_header_cell_of_the_page_has_a_name(results_dir, tmp_path):
    # An empty header cell (`| | |`) is announced as nothing by a screen reader (axe: empty-table-header).
    mnist_report.collect_results(results_dir)
    text = mnist_report.write_page(results_dir / 'metrics.json', tmp_path / 'page').read_text()
    lines = text.splitlines()
    headers = [lines[i - 1] for i, line in enumerate(lines) if line.startswith('| ---')]
    assert len(headers) >= 3, headers
    for header in headers:
        cells = [cell.strip() for cell in header.strip().strip('|').split('|')]
        assert all(cells), f'a table header cell is empty: {header!r}'
