"""The results page is written from the results file, and its statistics sentences follow the numbers."""

import json

import pytest

from labml_nn.optimizers import mnist_report
from labml_nn.optimizers.mnist_stats import best_of, mcnemar, paired_difference, t_quantile, table_sentence


def test_t_quantiles_match_the_published_table():
    # Student's t table, two-sided 95%
    for df, value in ((1, 12.706), (4, 2.776), (10, 2.228), (30, 2.042)):
        assert t_quantile(0.975, df) == pytest.approx(value, abs=1e-3)


def test_mcnemar_counts_discordant_images_over_seeds_and_gives_the_exact_p():
    result = mcnemar([[1, 2, 3], [5]], [[3, 4], [5, 6, 7]])
    assert (result['only_a_wrong'], result['only_b_wrong']) == (2, 3)
    # n = 5, min(b, c) = 2: 2 * (1 + 5 + 10) / 32 = 1
    assert result['p'] == 1.0
    assert mcnemar([list(range(20))], [[]])['p'] == pytest.approx(2 / 2 ** 20)


def rows(differences):
    return [{'label': name, 'difference': paired_difference(a, b), 'mcnemar': {'p': p}}
            for name, (a, b, p) in differences.items()]


def test_the_sentence_says_which_differences_are_distinguishable_and_changes_with_the_numbers():
    adam = [0.970, 0.972, 0.968, 0.971, 0.969]
    clear = [x + 0.01 + 0.001 * i for i, x in enumerate(adam)]
    noisy = [x + d for x, d in zip(adam, [0.004, -0.005, 0.003, -0.004, 0.001])]
    significant = table_sentence(rows({'Clear': (clear, adam, 1e-5), 'Noisy': (noisy, adam, 0.6)}), 'Adam')
    assert 'by more than seed noise for 1 of 2 optimizers: Clear' in significant
    assert 'Noisy cannot be told apart from Adam' in significant
    assert 'p < 0.05 for Clear' in significant
    nothing = table_sentence(rows({'Noisy': (noisy, adam, 0.6)}), 'Adam')
    assert 'more than seed noise' not in nothing and 'For all 1' in nothing and 'finds no error rate' in nothing


def test_best_is_named_only_when_its_lead_over_the_runner_up_is_outside_noise():
    adam = [0.970, 0.972, 0.968, 0.971, 0.969]
    labels = {'a': 'A', 'b': 'B'}
    best, sentence = best_of({'a': [x + 0.01 for x in adam], 'b': adam}, labels)
    assert best == 'a' and 'ahead of B' in sentence
    best, sentence = best_of({'a': [x + d for x, d in zip(adam, [0.004, -0.005, 0.003, -0.004, 0.002])],
                              'b': adam}, labels)
    assert best is None and 'No optimizer is best' in sentence


def test_the_published_page_is_what_the_report_writes_from_its_metrics(tmp_path):
    published = mnist_report.PUBLISHED_DIR
    out = tmp_path / 'out'
    mnist_report.write_page(published / 'metrics.json', out)
    assert (out / 'readme.md').read_text() == (published / 'readme.md').read_text()
    assert (out / 'summary.csv').read_text() == (published / 'summary.csv').read_text()
    assert (out / 'sweep.svg').read_bytes() == (published / 'sweep.svg').read_bytes()
    metrics = json.loads((published / 'metrics.json').read_text())
    # The committed run: 5 seeds, a 5-rate sweep for every optimizer, the CPU named on the page
    assert metrics['plan']['settings']['seeds'] >= 5
    assert '--data-dir' not in ' '.join(metrics['plan']['commands'])
    assert metrics['plan']['environment']['cpu'] in (published / 'readme.md').read_text()
