r"""
---
title: MNIST comparison report
summary: Turns the results of the MNIST optimizer comparison into JSON and CSV tables, plots with a band of one standard deviation, and the results page.
---

# MNIST comparison report

The [MNIST experiment](mnist_experiment.html) writes one JSON file per finished run.
This module gathers them into a single results file, `metrics.json`, and then writes everything else
**from that file alone**:

* `metrics.csv`: one row per optimizer, seed and epoch;
* `summary.csv`: final test accuracy and loss as mean and standard deviation over the seeds,
  and the mean wall time of an epoch;
* `valid_loss.svg|png` and `valid_accuracy.svg|png`: validation loss and accuracy against the training step,
  the mean over seeds with a band of $\pm 1$ standard deviation;
* `readme.md`: the page, with the table, the plots, the command, the versions and the hardware.

No number on the page is typed by hand. To rebuild the page from a results file:

```bash
python -m labml_nn.optimizers.mnist_report --metrics labml_nn/optimizers/mnist_results/metrics.json \
    --out labml_nn/optimizers/mnist_results
```

The standard deviation is the sample standard deviation (with $n - 1$) over seeds.
SVG files are written with a fixed hash salt and no date, so the same results give the same bytes.
"""

import argparse
import csv
import json
import math
from pathlib import Path
from typing import Any, Dict, List

# The committed results folder, which the site renders as a page.
PUBLISHED_DIR = Path(__file__).parent / 'mnist_results'

# Names shown in the table and the legends
LABELS = {
    'adam': 'Adam',
    'amsgrad': 'AMSGrad',
    'radam': 'RAdam',
    'adabelief': 'AdaBelief',
    'adam_warmup': 'AdamWarmup',
    'adam_warmup_cosine_decay': 'AdamWarmupCosineDecay',
    'noam': 'Noam',
    'torch_adam': 'torch.optim.Adam',
    'sgd_momentum': 'SGD + momentum',
}

PLOT_FILES = ('valid_loss', 'valid_accuracy')


def _label(name: str) -> str:
    return LABELS.get(name, name)


def mean_std(values: List[float]):
    """Mean and sample standard deviation ($n - 1$); the deviation of a single value is 0."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


# ## Gathering the runs
def collect_results(results_dir) -> Dict[str, Any]:
    """Merge `plan.json` and `runs/*.json` of `results_dir` into `results_dir/metrics.json`."""
    results_dir = Path(results_dir)
    plan = json.loads((results_dir / 'plan.json').read_text())
    runs = []
    missing = []
    for seed in plan['seeds']:
        for name in plan['optimizers']:
            path = results_dir / 'runs' / f'{name}-seed{seed}.json'
            if path.exists():
                runs.append(json.loads(path.read_text()))
            else:
                missing.append(path.name)
    if missing:
        raise FileNotFoundError(f'{results_dir}: unfinished runs: {", ".join(missing)}; '
                                f'finish them with --resume first')
    metrics = {'plan': plan, 'runs': runs, 'summary': summarize(plan, runs)}
    (results_dir / 'metrics.json').write_text(json.dumps(metrics, indent=1))
    return metrics


def summarize(plan: Dict[str, Any], runs: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Per optimizer: test accuracy and loss, last validation metrics and time per epoch over seeds."""
    rows = []
    for name in plan['optimizers']:
        mine = [r for r in runs if r['optimizer'] == name]
        acc_mean, acc_std = mean_std([r['test_accuracy'] for r in mine])
        loss_mean, loss_std = mean_std([r['test_loss'] for r in mine])
        valid_mean, valid_std = mean_std([r['epochs'][-1]['valid_accuracy'] for r in mine])
        times = [e['epoch_time_s'] for r in mine for e in r['epochs']]
        rows.append({
            'optimizer': name,
            'lr': mine[0]['settings'].get('lr'),
            'seeds': len(mine),
            'test_accuracy_mean': acc_mean, 'test_accuracy_std': acc_std,
            'test_loss_mean': loss_mean, 'test_loss_std': loss_std,
            'valid_accuracy_mean': valid_mean, 'valid_accuracy_std': valid_std,
            'epoch_time_s_mean': sum(times) / len(times),
        })
    return rows


# ## Tables
def write_csv(metrics: Dict[str, Any], out: Path):
    fields = ['optimizer', 'seed', 'epoch', 'step', 'train_loss', 'train_accuracy', 'valid_loss',
              'valid_accuracy', 'epoch_time_s', 'test_loss', 'test_accuracy']
    with open(out / 'metrics.csv', 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator='\n')
        writer.writeheader()
        for run in metrics['runs']:
            last = run['epochs'][-1]['epoch']
            for e in run['epochs']:
                # Test metrics exist only after the last epoch.
                test = ({'test_loss': run['test_loss'], 'test_accuracy': run['test_accuracy']}
                        if e['epoch'] == last else {})
                writer.writerow({'optimizer': run['optimizer'], 'seed': run['seed'], **e, **test})
    with open(out / 'summary.csv', 'w', newline='') as f:
        rows = metrics['summary']
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator='\n')
        writer.writeheader()
        writer.writerows(rows)


# ## Plots
#
# Every seed of an optimizer is validated at the same steps, so the curves are averaged point by point.
def _curves(metrics: Dict[str, Any], key: str):
    for name in metrics['plan']['optimizers']:
        runs = [r for r in metrics['runs'] if r['optimizer'] == name]
        steps = [p['step'] for p in runs[0]['curve']]
        stats = [mean_std([r['curve'][i][key] for r in runs]) for i in range(len(steps))]
        yield name, steps, [m for m, _ in stats], [s for _, s in stats]


def write_plots(metrics: Dict[str, Any], out: Path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    # Fixed ids and no date in the SVG, so the same results give the same bytes; set for these plots only
    # (other figures drawn in the same process keep their own settings).
    with matplotlib.rc_context({'svg.hashsalt': 'labml_nn-mnist-report', 'font.size': 11}):
        _draw_plots(plt, metrics, out)


def _draw_plots(plt, metrics: Dict[str, Any], out: Path):
    styles = ['-', '--', '-.', ':']
    for key, title, ylabel in [('valid_loss', 'Validation loss', 'cross-entropy (log scale)'),
                               ('valid_accuracy', 'Validation accuracy', 'accuracy (%)')]:
        # Narrow, with large type and the legend below: shrunk to a phone's 360 px the text is still about
        # 11 px (the 8-inch figure with 8-point legend shrank it to under 5 px).
        fig, ax = plt.subplots(figsize=(5.2, 5.6), dpi=100)
        lows = []
        for i, (name, steps, mean, std) in enumerate(_curves(metrics, key)):
            scale = 100 if key == 'valid_accuracy' else 1
            m = [v * scale for v in mean]
            s = [v * scale for v in std]
            color = plt.get_cmap('tab10')(i % 10)
            ax.plot(steps, m, styles[i % len(styles)], color=color, marker='o', markersize=3, label=_label(name))
            ax.fill_between(steps, [a - b for a, b in zip(m, s)], [a + b for a, b in zip(m, s)],
                            color=color, alpha=0.15, linewidth=0)
            lows.append(min(a - b for a, b in zip(m, s)))
        if key == 'valid_loss':
            ax.set_yscale('log')
        else:
            # Zoom in on the range the curves use.
            ax.set_ylim(max(0.0, min(lows) - 0.2), 100)
        n_seeds = len(metrics['plan']['seeds'])
        ax.set_title(f'{title}\n(mean ± std over {n_seeds} seeds)', fontsize=12)
        ax.set_xlabel('training step')
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=9.5, ncol=2, loc='upper center', bbox_to_anchor=(0.5, -0.14), frameon=False)
        fig.tight_layout()
        fig.savefig(out / f'{key}.svg', metadata={'Date': None})
        fig.savefig(out / f'{key}.png', metadata={'Software': None})
        plt.close(fig)


# ## The page
# Narrow no-break spaces: a table cell never wraps between a value and its spread, and stays compact.
PLUS_MINUS = '\u202f±\u202f'


def _pct(mean: float, std: float) -> str:
    return f'{mean * 100:.2f}{PLUS_MINUS}{std * 100:.2f}'


def page_markdown(metrics: Dict[str, Any]) -> str:
    plan, env = metrics['plan'], metrics['plan']['environment']
    conf = plan['conf']
    run0 = metrics['runs'][0]
    steps_per_epoch = run0['steps_per_epoch']
    n_valid = conf['valid_size']
    best = max(metrics['summary'], key=lambda r: r['test_accuracy_mean'])

    summary = (f'Test accuracy, loss and validation curves of {len(plan["optimizers"])} optimizers training '
               f'the same CNN on MNIST, {len(plan["seeds"])} seeds each.')
    lines = [
        '---',
        # JSON strings are valid YAML scalars, whatever characters they hold.
        f'title: {json.dumps("Optimizers on MNIST: results")}',
        f'summary: {json.dumps(summary)}',
        '---',
        '',
        '# Optimizers on MNIST: results',
        '',
        'This page is written by [`mnist_report`](../mnist_report.html) from `metrics.json` in this folder, '
        'the results of one run of the [MNIST experiment](../mnist_experiment.html). '
        'Every number below comes from that file.',
        '',
        f'The same CNN was trained with each optimizer for {conf["epochs"]} epochs '
        f'({steps_per_epoch} steps of batch size {conf["batch_size"]} per epoch) with '
        f'{len(plan["seeds"])} seeds ({", ".join(str(s) for s in plan["seeds"])}). '
        f'For a given seed all optimizers start from the same weights and see the same batches. '
        f'Validation uses the last {n_valid} training images (held out), {conf["valid_per_epoch"]} times per '
        f'epoch; the test set (10,000 images) is used once, after the last epoch.',
        '',
        f'Best mean test accuracy: **{_label(best["optimizer"])}**, '
        f'{_pct(best["test_accuracy_mean"], best["test_accuracy_std"])} %.',
        '',
        '## Final test metrics',
        '',
        'Mean ± sample standard deviation over seeds. The learning rate is the one in the '
        '`OPTIMIZERS` table of the experiment; time is the mean wall time of one epoch '
        '(training plus validation).',
        '',
        '| Optimizer | Learning rate | Test accuracy (%) | Test loss | Validation accuracy (%) | Time / epoch (s) |',
        '| --- | ---: | ---: | ---: | ---: | ---: |',
    ]
    for row in metrics['summary']:
        lines.append(
            f'| {_label(row["optimizer"])} | {row["lr"]:g} | '
            f'{_pct(row["test_accuracy_mean"], row["test_accuracy_std"])} | '
            f'{row["test_loss_mean"]:.4f}{PLUS_MINUS}{row["test_loss_std"]:.4f} | '
            f'{_pct(row["valid_accuracy_mean"], row["valid_accuracy_std"])} | '
            f'{row["epoch_time_s_mean"]:.1f} |')

    lines += [
        '',
        '## Validation curves',
        '',
        'Mean over seeds, with a band of ± one standard deviation.',
        '',
        '![Validation loss against step](valid_loss.svg)',
        '',
        '![Validation accuracy against step](valid_accuracy.svg)',
        '',
        '## Settings of each optimizer',
        '',
        '| Optimizer | Settings |',
        '| --- | --- |',
    ]
    for name in plan['optimizers']:
        settings = next(r['settings'] for r in metrics['runs'] if r['optimizer'] == name)
        text = ', '.join(f'`{k}={v}`' for k, v in settings.items())
        lines.append(f'| {_label(name)} | {text} |')

    lines += ['', '## How these results were produced', '',
              'The command (and any `--resume` of it after an interruption):', '', '```bash']
    lines += plan['commands']
    lines += ['```', '',
              'Per-epoch metrics of every optimizer and seed are in [`metrics.csv`](metrics.csv) and '
              '[`metrics.json`](metrics.json) in this folder, the summary in [`summary.csv`](summary.csv). '
              'This page, the tables and the plots are rebuilt from '
              '`metrics.json` with', '', '```bash',
              'python -m labml_nn.optimizers.mnist_report --metrics labml_nn/optimizers/mnist_results/metrics.json '
              '--out labml_nn/optimizers/mnist_results',
              '```', '',
              # Named header cells: an empty <th> names nothing for a screen reader
              '| Environment | Value |', '| --- | --- |']
    for key, label in [('device', 'Device'), ('gpu', 'GPU'), ('cpu', 'CPU'), ('cpu_count', 'CPU cores'),
                       ('torch_threads', 'Torch threads'), ('platform', 'Platform'), ('python', 'Python'),
                       ('torch', 'PyTorch'), ('labml', 'labml'), ('numpy', 'NumPy'),
                       ('matplotlib', 'Matplotlib'), ('git_commit', 'Source commit')]:
        if env.get(key) is not None:
            lines.append(f'| {label} | `{env[key]}` |')
    lines.append('')
    return '\n'.join(lines)


def write_page(metrics_file, out) -> Path:
    """Write tables, plots and `readme.md` into `out`, reading only `metrics_file`."""
    metrics_file, out = Path(metrics_file), Path(out)
    metrics = json.loads(metrics_file.read_text())
    out.mkdir(parents=True, exist_ok=True)
    if metrics_file.resolve() != (out / 'metrics.json').resolve():
        (out / 'metrics.json').write_text(metrics_file.read_text())
    write_csv(metrics, out)
    write_plots(metrics, out)
    page = out / 'readme.md'
    page.write_text(page_markdown(metrics))
    return page


def write_report(results_dir, out) -> Path:
    """Gather the runs in `results_dir` into `metrics.json` and write the report into `out`."""
    collect_results(results_dir)
    return write_page(Path(results_dir) / 'metrics.json', out)


def main(argv=None):
    p = argparse.ArgumentParser(prog='python -m labml_nn.optimizers.mnist_report',
                                description='Write tables, plots and the page of an MNIST comparison.')
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument('--results-dir', help='a comparison folder (plan.json and runs/)')
    source.add_argument('--metrics', help='a metrics.json results file')
    p.add_argument('--out', default=str(PUBLISHED_DIR), help='where to write the report')
    args = p.parse_args(argv)
    if args.results_dir:
        page = write_report(args.results_dir, args.out)
    else:
        page = write_page(args.metrics, args.out)
    print(f'Wrote {page}')


if __name__ == '__main__':
    main()
