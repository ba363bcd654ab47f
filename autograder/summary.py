"""The batch at a glance: scores per exercise and per test, who needs a human, which mistakes were made.

``report`` returns the text ``grade`` prints and writes it, with a figure of
every test's pass rate, to ``OUT/summary.md`` and ``OUT/summary.png``.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from pathlib import Path

from autograder.records import Result, Status, write_atomically

def report(out: Path, results: list[Result]) -> str:
    lines = ["# Grading summary", "", "## Scores per exercise", "",
             "| exercise | submissions | graded | mean | median | max points |", "|---|---|---|---|---|---|"]
    by_exercise: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_exercise[r.exercise].append(r)
    for exercise, rs in sorted(by_exercise.items()):
        scores = [r.score for r in rs]
        lines.append(f"| {exercise} | {len(rs)} | {sum(r.status == Status.GRADED for r in rs)} | "
                     f"{statistics.mean(scores):.2f} | {statistics.median(scores):g} | {rs[0].max_score:g} |")

    lines += ["", "## Tests", "", "| exercise | test | points | passed | mean |", "|---|---|---|---|---|"]
    rates = {}
    for exercise, rs in sorted(by_exercise.items()):
        per_test: dict[str, list] = defaultdict(list)
        for r in rs:
            for t in r.tests:
                per_test[t.name].append(t)
        for name, ts in per_test.items():
            passed = sum(t.passed for t in ts)
            rates[(exercise, name)] = passed / len(ts)
            lines.append(f"| {exercise} | {name} | {ts[0].max_score:g} | {passed} of {len(ts)} | "
                         f"{statistics.mean(t.score for t in ts):.2f} |")

    human = [r for r in results if r.status != Status.GRADED or r.flags]
    lines += ["", f"## Needs a human ({len(human)})", ""]
    lines += [f"- {r.student}/{r.exercise}: {r.status.value}"
              + (f"; flags: {'; '.join(r.flags)}" if r.flags else "") + f". {r.message[:200]}" for r in human]
    if not human:
        lines.append("Nobody: every submission was graded and none was flagged.")

    lines += ["", "## Mistakes made (named by the hidden tests)", ""]
    any_named = False
    for exercise, rs in sorted(by_exercise.items()):
        counts: Counter = Counter()
        for r in rs:
            counts.update({t.mistake for t in r.tests if t.mistake})
        for mistake, count in counts.most_common():
            any_named = True
            lines.append(f"- {count} of {len(rs)} {exercise} submissions: {mistake}")
    if not any_named:
        lines.append("None of the known mistakes was made.")
    text = "\n".join(lines) + "\n"
    write_atomically(out / "summary.md", text)
    if rates:
        _figure(out / "summary.png", rates)
    return text


def _figure(path: Path, rates: dict[tuple[str, str], float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{e}: {t.removeprefix('test_')}" for e, t in rates]
    fig, ax = plt.subplots(figsize=(8, 0.25 * len(labels) + 1))
    ax.barh(range(len(labels)), list(rates.values()), color="#4477aa")
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("fraction of submissions that passed")
    ax.set_title("Pass rate of every test")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
