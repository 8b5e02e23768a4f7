r"""
---
title: Statistics of the MNIST comparison
summary: Paired differences over seeds with Student-t confidence intervals, McNemar's exact test on per-image predictions, and the sentences that say which differences are distinguishable from noise.
in_reading_order: false
---

# Statistics of the MNIST comparison

Two optimizers trained with the same seed start from the same weights and see the same batches, so their results
are **paired**: the difference $d_i = a_i - b_i$ for seed $i$ removes what the seed does to both. Over $n$ seeds,
with mean $\bar{d}$ and sample standard deviation $s_d$, the 95% confidence interval of the mean difference is
$$\bar{d} \pm t_{0.975,\, n-1} \frac{s_d}{\sqrt{n}}$$
([Student's t](https://en.wikipedia.org/wiki/Student%27s_t-distribution#Confidence_intervals)). A difference is
*distinguishable from seed noise* when that interval excludes $0$.

[McNemar's test](https://en.wikipedia.org/wiki/McNemar%27s_test) asks the same of the per-image test
predictions: of the images exactly one of the two models gets wrong, $b$ are wrong only for the first and $c$ only
for the second; if both had the same error rate, $b$ would be binomial with $n = b + c$ and $p = \frac{1}{2}$.
The exact two-sided p-value is $\min\left(1, 2 \sum_{k \le \min(b, c)} \binom{n}{k} 2^{-n}\right)$. Here $b$ and $c$
are summed over the seeds (each pair of runs shares its seed), so images are counted once per seed.
"""

import math
from typing import Dict, List, Optional, Sequence


def mean_std(values: Sequence[float]):
    """Mean and sample standard deviation ($n - 1$); the deviation of a single value is 0."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


def t_cdf(x: float, df: int) -> float:
    """Student's t distribution function, by Simpson's rule on the density from 0 to |x| (2,000 intervals)."""
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)

    def density(u):
        return math.exp(log_c - (df + 1) / 2 * math.log1p(u * u / df))

    a, n = abs(x), 2000
    h = a / n
    area = density(0) + density(a) + sum((4 if k % 2 else 2) * density(k * h) for k in range(1, n))
    half = area * h / 3
    return 0.5 + half if x >= 0 else 0.5 - half


def t_quantile(q: float, df: int) -> float:
    """The $q$ quantile of Student's t with `df` degrees of freedom ($q > 0.5$), by bisection on `t_cdf`."""
    lo, hi = 0.0, 1000.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if t_cdf(mid, df) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def paired_difference(a: Sequence[float], b: Sequence[float]) -> Dict[str, Optional[float]]:
    r"""Mean of $a_i - b_i$ and its 95% CI (`None` with a single pair)."""
    if len(a) != len(b) or not a:
        raise ValueError(f'paired_difference needs pairs: {len(a)} and {len(b)} values')
    d = [x - y for x, y in zip(a, b)]
    mean, std = mean_std(d)
    if len(d) < 2:
        return {'mean': mean, 'low': None, 'high': None, 'n': len(d)}
    half = t_quantile(0.975, len(d) - 1) * std / math.sqrt(len(d))
    return {'mean': mean, 'low': mean - half, 'high': mean + half, 'n': len(d)}


def excludes_zero(difference: Dict[str, Optional[float]]) -> bool:
    return difference['low'] is not None and (difference['low'] > 0 or difference['high'] < 0)


def mcnemar(wrong_a: List[List[int]], wrong_b: List[List[int]]) -> Dict[str, float]:
    """McNemar's exact test over paired runs: the misclassified test images of each run of A and of B."""
    b = c = 0
    for wa, wb in zip(wrong_a, wrong_b):
        wa, wb = set(wa), set(wb)
        b += len(wa - wb)
        c += len(wb - wa)
    n = b + c
    if n == 0:
        return {'only_a_wrong': 0, 'only_b_wrong': 0, 'p': 1.0}
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1))
    return {'only_a_wrong': b, 'only_b_wrong': c, 'p': min(1.0, 2 * tail / 2 ** n)}


def _pp(x: float) -> str:
    return f'{x * 100:+.2f}'


def table_sentence(rows: List[Dict], baseline_label: str) -> str:
    """
    What a table shows, from its numbers. `rows` holds, for each optimizer but the baseline, `label`,
    `difference` (a `paired_difference` of test accuracy against the baseline) and `mcnemar` (a `mcnemar` result).
    """
    if not rows:
        return ''
    n = rows[0]['difference']['n']
    if n < 2:
        return 'With one seed there is no confidence interval: none of these differences can be told from seed noise.'
    apart = [r for r in rows if excludes_zero(r['difference'])]
    within = [r for r in rows if not excludes_zero(r['difference'])]
    parts = []
    if apart:
        listed = ', '.join(f"{r['label']} ({_pp(r['difference']['mean'])} pp, 95% CI "
                           f"[{_pp(r['difference']['low'])}, {_pp(r['difference']['high'])}])" for r in apart)
        parts.append(f'Over {n} seeds, the test accuracy differs from {baseline_label} by more than seed noise '
                     f'for {len(apart)} of {len(rows)} optimizers: {listed}.')
    if within:
        verb = 'the other' if apart else 'all'
        parts.append(f'For {verb} {len(within)}, the 95% CI of the paired difference includes 0: '
                     f'{", ".join(r["label"] for r in within)} cannot be told apart from {baseline_label} here.')
    rejected = [r['label'] for r in rows if r['mcnemar']['p'] < 0.05]
    if rejected:
        parts.append(f"McNemar's test on the per-image predictions (pooled over seeds) finds a different error "
                     f"rate at p < 0.05 for {', '.join(rejected)}.")
    else:
        parts.append(f"McNemar's test on the per-image predictions finds no error rate different from "
                     f"{baseline_label}'s at p < 0.05.")
    return ' '.join(parts)


def best_of(accuracies: Dict[str, List[float]], labels: Dict[str, str]):
    """
    `(best, sentence)`: the optimizer with the highest mean accuracy if the paired CI of its lead over the
    runner-up excludes 0, else `None`; and the sentence that says so.
    """
    if len(accuracies) < 2:
        return None, ''
    ranked = sorted(accuracies, key=lambda k: -mean_std(accuracies[k])[0])
    top, second = ranked[0], ranked[1]
    lead = paired_difference(accuracies[top], accuracies[second])
    if excludes_zero(lead):
        return top, (f"{labels[top]} has the highest mean test accuracy, ahead of {labels[second]} by "
                     f"{_pp(lead['mean'])} pp (95% CI [{_pp(lead['low'])}, {_pp(lead['high'])}]).")
    if lead['low'] is None:
        return None, f'{labels[top]} has the highest mean test accuracy; with one seed no lead can be established.'
    return None, (f"No optimizer is best here: {labels[top]} has the highest mean test accuracy, but its lead over "
                  f"{labels[second]} ({_pp(lead['mean'])} pp, 95% CI [{_pp(lead['low'])}, {_pp(lead['high'])}]) "
                  f"is within seed noise.")
