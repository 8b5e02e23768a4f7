r"""
---
title: MNIST comparison report
summary: Turns the runs of the MNIST optimizer comparison into JSON and CSV tables, the learning-rate sweep plot, validation curves, paired statistics and the results page.
---

# MNIST comparison report

The [MNIST experiment](mnist_experiment.html) writes one JSON file per finished run.
This module gathers them into a single results file, `metrics.json`, and then writes everything else
**from that file alone**:

* `metrics.csv`: one row per run and epoch;
* `summary.csv`: one row per table and optimizer: the chosen rate, test accuracy and loss as mean and sample
  standard deviation over seeds, the paired difference to Adam with its 95% CI, McNemar's test, CPU and wall time;
* `sweep.svg|png`: the validation loss of each optimizer against the learning rate;
* `valid_loss.svg|png`: validation loss against the training step at the chosen rates (mean ± std over seeds);
* `readme.md`: the page, with the tables, the sentences the [statistics](mnist_stats.html) write, the plots, the
  command, the versions and the hardware.

No number on the page is typed by hand. To rebuild the page from a results file:

```bash
python -m labml_nn.optimizers.mnist_report --metrics labml_nn/optimizers/mnist_results/metrics.json \
    --out labml_nn/optimizers/mnist_results
```

SVG files are written with a fixed hash salt and no date, so the same results give the same bytes.
"""

import argparse
import csv
import json
from pathlib import Path
from typing import Any, Dict, List

from labml_nn.optimizers.mnist_stats import best_of, mcnemar, mean_std, paired_difference, table_sentence

# The committed results folder, which the site renders as a page.
PUBLISHED_DIR = Path(__file__).parent / 'mnist_results'
BASELINE = 'adam'

TABLES = [
    ('constant', 'At a constant learning rate',
     'Every optimizer at its chosen rate, constant for the whole run.'),
    ('cosine', 'With the same cosine decay for all',
     'The same optimizers and rates, with the rate decayed to 0 by one cosine schedule '
     '(`LambdaLR`, $\\eta_t = \\eta \\frac{1}{2}(1 + \\cos \\frac{\\pi t}{T})$) for every optimizer.'),
    ('own', 'Optimizers with a built-in schedule',
     'These classes carry their own schedule, so they are reported apart; the reference is Adam at a constant '
     'rate, from the first table.'),
]


def _labels(metrics) -> Dict[str, str]:
    from labml_nn.optimizers.mnist_experiment import OPTIMIZERS
    return {name: OPTIMIZERS[name].label if name in OPTIMIZERS else name for name in metrics['plan']['settings']['optimizers']}


# ## Gathering the runs
def collect_results(results_dir) -> Dict[str, Any]:
    """Merge `plan.json` and `runs/*.json` of `results_dir` into `results_dir/metrics.json`."""
    results_dir = Path(results_dir)
    plan = json.loads((results_dir / 'plan.json').read_text())
    runs = [json.loads(p.read_text()) for p in sorted((results_dir / 'runs').glob('*.json'))]
    metrics = {'plan': plan, 'runs': runs}
    (results_dir / 'metrics.json').write_text(json.dumps(metrics, indent=1))
    return metrics


def finals(metrics, name: str, schedule: str) -> List[Dict[str, Any]]:
    return sorted((r for r in metrics['runs'] if r['phase'] == 'final' and r['optimizer'] == name
                   and r['schedule'] == schedule), key=lambda r: r['seed'])


# ## The tables
def summarize(metrics) -> List[Dict[str, Any]]:
    """One row per table and optimizer, with the statistics against Adam (paired by seed)."""
    rows = []
    for table, _, _ in TABLES:
        reference = finals(metrics, BASELINE, 'constant' if table == 'own' else table)
        for name in metrics['plan']['settings']['optimizers']:
            runs = finals(metrics, name, table)
            if not runs:
                continue
            accuracy = [r['test_accuracy'] for r in runs]
            loss = [r['test_loss'] for r in runs]
            row = {'table': table, 'optimizer': name, 'lr': runs[0]['lr'], 'peak_lr': runs[0]['peak_lr'],
                   'seeds': len(runs), 'test_accuracy': accuracy,
                   'test_accuracy_mean': mean_std(accuracy)[0], 'test_accuracy_std': mean_std(accuracy)[1],
                   'test_loss_mean': mean_std(loss)[0], 'test_loss_std': mean_std(loss)[1],
                   'epoch_cpu_s_mean': mean_std([e['epoch_cpu_s'] for r in runs for e in r['epochs']])[0],
                   'epoch_wall_s_mean': mean_std([e['epoch_time_s'] for r in runs for e in r['epochs']])[0],
                   'difference': None, 'mcnemar': None}
            if name != BASELINE and len(reference) == len(runs):
                row['difference'] = paired_difference(accuracy, [r['test_accuracy'] for r in reference])
                row['mcnemar'] = mcnemar([r['test_wrong'] for r in runs], [r['test_wrong'] for r in reference])
            rows.append(row)
    return rows


def write_csv(metrics, rows, out: Path):
    with open(out / 'metrics.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['phase', 'optimizer', 'lr', 'schedule', 'seed', 'epoch', 'step', 'train_loss', 'train_accuracy',
                    'valid_loss', 'valid_accuracy', 'test_loss', 'test_accuracy', 'epoch_cpu_s', 'epoch_wall_s'])
        for r in metrics['runs']:
            for e in r['epochs']:
                last = e['epoch'] == len(r['epochs'])
                w.writerow([r['phase'], r['optimizer'], r['lr'], r['schedule'], r['seed'], e['epoch'], e['step'],
                            f"{e['train_loss']:.6f}", f"{e['train_accuracy']:.6f}", f"{e['valid_loss']:.6f}",
                            f"{e['valid_accuracy']:.6f}", f"{r['test_loss']:.6f}" if last else '',
                            f"{r['test_accuracy']:.6f}" if last else '', f"{e['epoch_cpu_s']:.2f}",
                            f"{e['epoch_time_s']:.2f}"])
    with open(out / 'summary.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['table', 'optimizer', 'lr', 'peak_lr', 'seeds', 'test_accuracy_mean', 'test_accuracy_std',
                    'test_loss_mean', 'test_loss_std', 'diff_vs_adam', 'diff_ci_low', 'diff_ci_high',
                    'mcnemar_only_this_wrong', 'mcnemar_only_adam_wrong', 'mcnemar_p', 'epoch_cpu_s', 'epoch_wall_s'])
        for row in rows:
            d, m = row['difference'] or {}, row['mcnemar'] or {}
            w.writerow([row['table'], row['optimizer'], row['lr'], f"{row['peak_lr']:.4g}", row['seeds'],
                        f"{row['test_accuracy_mean']:.6f}", f"{row['test_accuracy_std']:.6f}",
                        f"{row['test_loss_mean']:.6f}", f"{row['test_loss_std']:.6f}",
                        *(f'{d[k]:.6f}' if d.get(k) is not None else '' for k in ('mean', 'low', 'high')),
                        m.get('only_a_wrong', ''), m.get('only_b_wrong', ''),
                        f"{m['p']:.4g}" if m else '', f"{row['epoch_cpu_s_mean']:.2f}",
                        f"{row['epoch_wall_s_mean']:.2f}"])


# ## The plots
def write_plots(metrics, out: Path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    # Fixed ids and no date in the SVG, so the same results give the same bytes; set for these plots only
    with matplotlib.rc_context({'svg.hashsalt': 'labml_nn-mnist-report', 'font.size': 11}):
        _draw_sweep(plt, metrics, out)
        _draw_curves(plt, metrics, out)


def _style(plt, i):
    return ['-', '--', '-.', ':'][i % 4], plt.get_cmap('tab20')(i % 20)


def _save(fig, out: Path, name: str):
    fig.tight_layout()
    fig.savefig(out / f'{name}.svg', metadata={'Date': None})
    fig.savefig(out / f'{name}.png', metadata={'Software': None})


def _draw_sweep(plt, metrics, out: Path):
    labels = _labels(metrics)
    # Narrow, with large type and the legend below, so that it stays readable on a phone
    fig, ax = plt.subplots(figsize=(5.6, 7.6), dpi=100)
    for i, name in enumerate(metrics['plan']['settings']['optimizers']):
        runs = sorted((r for r in metrics['runs'] if r['phase'] == 'sweep' and r['optimizer'] == name),
                      key=lambda r: r['lr'])
        if not runs:
            continue
        # Relative to each optimizer's centre rate, so that all grids share one axis
        center = runs[len(runs) // 2]['lr']
        x = [r['lr'] / center for r in runs]
        y = [min(r['epochs'][-1]['valid_loss'], 10.) for r in runs]
        style, color = _style(plt, i)
        ax.plot(x, y, style, color=color, marker='o', markersize=3, label=labels[name])
    ax.set_xscale('log')
    ax.set_yscale('log')
    ax.set_title('Learning-rate sweep (1 seed)\nvalidation loss against rate / grid centre', fontsize=12)
    ax.set_xlabel('learning rate / centre of the grid')
    ax.set_ylabel('validation loss (log scale, capped at 10)')
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9, ncol=2, loc='upper center', bbox_to_anchor=(0.5, -0.12), frameon=False)
    _save(fig, out, 'sweep')
    plt.close(fig)


def _draw_curves(plt, metrics, out: Path):
    labels = _labels(metrics)
    fig, ax = plt.subplots(figsize=(5.6, 7.6), dpi=100)
    for i, name in enumerate(metrics['plan']['settings']['optimizers']):
        runs = finals(metrics, name, 'own') or finals(metrics, name, 'constant')
        if not runs:
            continue
        steps = [p['step'] for p in runs[0]['curve']]
        stats = [mean_std([r['curve'][k]['valid_loss'] for r in runs]) for k in range(len(steps))]
        style, color = _style(plt, i)
        m = [a for a, _ in stats]
        sd = [b for _, b in stats]
        ax.plot(steps, m, style, color=color, marker='o', markersize=3, label=labels[name])
        ax.fill_between(steps, [a - b for a, b in zip(m, sd)], [a + b for a, b in zip(m, sd)], color=color,
                        alpha=0.12, linewidth=0)
    ax.set_yscale('log')
    ax.set_title(f"Validation loss at the chosen rates\n(constant or built-in schedule; mean ± std over "
                 f"{metrics['plan']['settings']['seeds']} seeds)", fontsize=12)
    ax.set_xlabel('training step')
    ax.set_ylabel('cross-entropy (log scale)')
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9, ncol=2, loc='upper center', bbox_to_anchor=(0.5, -0.12), frameon=False)
    _save(fig, out, 'valid_loss')
    plt.close(fig)


# ## The page
# Narrow no-break spaces: a table cell never wraps between a value and its spread.
PLUS_MINUS = '\u202f±\u202f'


def _pct(mean: float, std: float) -> str:
    return f'{mean * 100:.2f}{PLUS_MINUS}{std * 100:.2f}'


def _p_value(p: float) -> str:
    # The exact p-value underflows a float for very unequal counts
    return 'p<1e-300' if p < 1e-300 else f'p={p:.2g}'


def _difference(row) -> str:
    d = row['difference']
    if d is None:
        return 'reference' if row['optimizer'] == BASELINE else ''
    if d['low'] is None:
        return f"{d['mean'] * 100:+.2f}"
    return f"{d['mean'] * 100:+.2f} [{d['low'] * 100:+.2f}, {d['high'] * 100:+.2f}]"


def page_markdown(metrics) -> str:
    plan, env, s = metrics['plan'], metrics['plan']['environment'], metrics['plan']['settings']
    labels = _labels(metrics)
    rows = summarize(metrics)
    n_sweep = sum(r['phase'] == 'sweep' for r in metrics['runs'])
    n_final = sum(r['phase'] == 'final' for r in metrics['runs'])
    cpu_total = sum(e['epoch_cpu_s'] for r in metrics['runs'] for e in r['epochs'])
    lines = [
        '---', 'title: "Optimizers on MNIST: results"',
        'summary: The optimizers of this package and PyTorch baselines on MNIST, each at the learning rate a sweep '
        'chose, over seeds, with paired statistics, written from a real run.',
        'in_reading_order: false', '---', '',
        '# Optimizers on MNIST: results', '',
        f"The [MNIST experiment](../mnist_experiment.html) swept {len(s['optimizers'])} optimizers over five learning "
        f"rates each ({n_sweep} runs of {s['sweep_epochs']} epoch(s), seed 0), chose each one's rate by its "
        f"validation loss, and trained {n_final} final runs of {s['epochs']} epoch(s) at those rates, with "
        f"{s['seeds']} seeds each, on the first {s['train_size'] or 'all'} training images "
        f"(batch size {s['batch_size']}; {s['valid_size']} images held out for validation; the 10,000 test images "
        f"for the tables). Test accuracy is in %, as mean ± sample standard deviation over seeds. "
        f"\"vs Adam\" is the paired difference in percentage points, with its 95% confidence interval; "
        f"McNemar counts the test images only this optimizer gets wrong / only Adam gets wrong, over all seeds, "
        f"with the exact p-value. These runs took {cpu_total / 3600:.1f} CPU-hours in all.", '',
        f"**This was run on a `{env.get('cpu')}`** ({env.get('cpu_count')} cores, one thread per run, "
        f"{s['jobs']} runs at once). Floating-point results depend on the CPU model: the exact digits below "
        f"reproduce only on the same model; another CPU gives differences of the size of the seed spread.", '',
    ]
    for table, title, text in TABLES:
        table_rows = [r for r in rows if r['table'] == table]
        if not table_rows:
            continue
        best, best_sentence = best_of({r['optimizer']: r['test_accuracy'] for r in table_rows}, labels)
        compared = [dict(label=labels[r['optimizer']], difference=r['difference'], mcnemar=r['mcnemar'])
                    for r in table_rows if r['difference'] is not None]
        lines += [f'## {title}', '', text, '', table_sentence(compared, 'Adam') + ' ' + best_sentence, '',
                  '| Optimizer | Learning rate | Test accuracy | vs Adam (pp, 95% CI) | McNemar |',
                  '| --- | --- | --- | --- | --- |']
        for r in table_rows:
            name = labels[r['optimizer']]
            if r['optimizer'] == best:
                name = f'**{name}**'
            rate = f"{r['lr']:g}" if r['peak_lr'] == r['lr'] else f"{r['lr']:g} (peak {r['peak_lr']:.2g})"
            m = r['mcnemar']
            mc = f"{m['only_a_wrong']} / {m['only_b_wrong']}, {_p_value(m['p'])}" if m else ''
            lines.append(f"| {name} | {rate} | {_pct(r['test_accuracy_mean'], r['test_accuracy_std'])} | "
                         f"{_difference(r)} | {mc} |")
        lines.append('')

    load = [r['load_average'][0] for r in metrics['runs'] if r.get('load_average') and r['load_average'][0]]
    lines += [
        '## Time', '',
        f"CPU time per epoch (`time.process_time`) measures the work; wall time also measures the machine's load, "
        f"which was a 1-minute load average of {min(load):.1f} to {max(load):.1f} when runs started "
        f"({s['jobs']} runs at once on {env.get('cpu_count')} cores)." if load else '', '',
        'Test loss (mean ± std over seeds) and the mean time of an epoch, for each table:', '',
        '| Optimizer | Schedule | Test loss | CPU s / epoch | Wall s / epoch |', '| --- | --- | --- | --- | --- |']
    for r in rows:
        lines.append(f"| {labels[r['optimizer']]} | {r['table']} | "
                     f"{r['test_loss_mean']:.4f}{PLUS_MINUS}{r['test_loss_std']:.4f} | "
                     f"{r['epoch_cpu_s_mean']:.1f} | {r['epoch_wall_s_mean']:.1f} |")
    lines += ['',
        '## The learning-rate sweep', '',
        'Each optimizer at five rates around its usual one, one seed; the chosen rate is the one with the lowest '
        'validation loss. A curve whose minimum sits at an end of its grid means the best rate may lie outside it.',
        '', '![Validation loss against the learning rate](sweep.svg)', '',
        '| Optimizer | Rates tried | Chosen |', '| --- | --- | --- |']
    for name in s['optimizers']:
        chosen = next((r['lr'] for r in metrics['runs'] if r['phase'] == 'final' and r['optimizer'] == name), None)
        tried = ', '.join(f'{x:g}' for x in plan['rates'][name])
        lines.append(f"| {labels[name]} | {tried} | {'' if chosen is None else f'{chosen:g}'} |")
    lines += ['', '## Validation curves', '', '![Validation loss against step](valid_loss.svg)', '',
              '## Settings of each optimizer', '',
              'Every setting passed to the class (class defaults included), besides the learning rate.', '',
              '| Optimizer | Class | Settings |', '| --- | --- | --- |']
    from labml_nn.optimizers.mnist_experiment import OPTIMIZERS
    for name in s['optimizers']:
        run = next(r for r in metrics['runs'] if r['optimizer'] == name)
        spec = OPTIMIZERS.get(name)
        cls = f'`{spec.cls}`' + (' (torch)' if spec.module == 'torch.optim' else '') if spec else ''
        if spec and spec.wrap:
            cls += f' in `{spec.wrap[1]}({", ".join(f"{k}={v}" for k, v in spec.wrap[2].items())})`'
        if spec and spec.hessian_every:
            cls += f'; Hessian estimate every {spec.hessian_every} steps'
        text = ', '.join(f'`{k}={v}`' for k, v in run['settings'].items())
        lines.append(f'| {labels[name]} | {cls} | {text} |')
    lines += ['', '## How these results were produced', '',
              'The command (and any `--resume` of it after an interruption), from the repository root, with MNIST '
              'in the default `data/MNIST/raw/`:', '', '```bash']
    lines += plan['commands']
    lines += ['```', '',
              'Per-epoch metrics of every run are in [`metrics.csv`](metrics.csv), the tables in '
              '[`summary.csv`](summary.csv), and everything, with the misclassified test images of each run, in '
              '[`metrics.json`](metrics.json). This page, the tables and the plots are rebuilt from `metrics.json` '
              'with', '', '```bash',
              'python -m labml_nn.optimizers.mnist_report --metrics labml_nn/optimizers/mnist_results/metrics.json '
              '--out labml_nn/optimizers/mnist_results', '```', '',
              '| Environment | Value |', '| --- | --- |']
    for key, label in [('device', 'Device'), ('gpu', 'GPU'), ('cpu', 'CPU'), ('cpu_count', 'CPU cores'),
                       ('platform', 'Platform'), ('python', 'Python'), ('torch', 'PyTorch'), ('labml', 'labml'),
                       ('numpy', 'NumPy'), ('git_commit', 'Source commit')]:
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
    write_csv(metrics, summarize(metrics), out)
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
