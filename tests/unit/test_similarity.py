"""similarity.py: only what students wrote is compared, a copy with renamed variables ranks first, and the page is
self-contained with every student's code escaped."""

from __future__ import annotations

import json
import re

import pytest

from autograder import similarity

RELEASED = {"step": {'def step(x, h):', '"""One step."""', "# YOUR CODE HERE", "raise NotImplementedError()"}}

ORIGINAL = '''def step(x, h):
    """One step."""
    total = 0.0
    for index, value in enumerate(x):
        weight = h[index % len(h)]
        total = total + value * weight
        if total > 100:
            total = total / 2
    history = [total]
    while len(history) < 4:
        history.append(history[-1] * 0.5)
    return total, history
'''
RENAMED = (ORIGINAL.replace("total", "acc").replace("index", "i").replace("value", "v").replace("weight", "w")
           .replace("history", "trace"))
HONEST = ['''def step(x, h):
    """One step."""
    import numpy as np
    return float(np.dot(np.asarray(x), np.resize(h, len(x)))), []
''', '''def step(x, h):
    """One step."""
    s = sum(a * b for a, b in zip(x, h * (len(x) // max(len(h), 1) + 1)))
    return (s / 2 if s > 100 else s), [s]
''', '''def step(x, h):
    """One step."""
    # YOUR CODE HERE
    raise NotImplementedError()
''']


def notebook(source: str) -> dict:
    return {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "Intro"},
                      {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "step", "solution": True}},
                       "source": source},
                      {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "test_step", "grade": True}},
                       "source": "assert step([1], [1])"}]}


def test_answer_code_keeps_only_what_the_student_wrote():
    code = similarity.answer_code(notebook(ORIGINAL), RELEASED)
    assert code.startswith("# step\n    total = 0.0")
    assert "One step" not in code and "def step" not in code and "assert" not in code
    assert similarity.answer_code(notebook(HONEST[2]), RELEASED) == ""  # the release as given: nothing written


def test_released_lines_come_from_the_source_notebook():
    lines = similarity.released_lines("decorators")
    assert "def count_calls(fn):" in lines["count_calls"] and "raise NotImplementedError()" in lines["count_calls"]
    assert "wrapper.calls += 1" not in lines["count_calls"]  # the solution is not released
    assert set(lines) == {"count_calls", "register", "tensor_op"}


def test_a_renamed_copy_ranks_first(tmp_path):
    for student, source in {"ann": ORIGINAL, "bob": RENAMED, "cy": HONEST[0], "di": HONEST[1], "ed": HONEST[2]}.items():
        (tmp_path / student / "step").mkdir(parents=True)
        (tmp_path / student / "step" / "step.ipynb").write_text(json.dumps(notebook(source)))
    (tmp_path / "eve" / "step").mkdir(parents=True)
    (tmp_path / "eve" / "step" / "step.ipynb").symlink_to(tmp_path / "ann" / "step" / "step.ipynb")
    code, skipped = similarity.read_answers(tmp_path, "step", RELEASED)
    assert set(code) == {"ann", "bob", "cy", "di"}
    assert skipped["ed"] == "wrote too little to compare" and "symbolic link" in skipped["eve"]
    pairs = similarity.compare(code)
    assert (pairs[0].a, pairs[0].b) == ("ann", "bob") and pairs[0].similarity > 0.9
    assert all(p.similarity < 0.5 for p in pairs[1:])
    assert pairs[0].slices_a and all(0 <= s < e <= len(code["ann"]) for s, e in pairs[0].slices_a)


def test_the_page_is_self_contained_and_escapes_student_code():
    hostile = ORIGINAL.replace("total = 0.0", 'total = 0.0  # </pre><script>alert(1)</script><img src="http://x/y">')
    code = {"<b>ann</b>": similarity.answer_code(notebook(hostile), RELEASED),
            "bob": similarity.answer_code(notebook(RENAMED), RELEASED)}
    report = similarity.Report("step", code, similarity.compare(code), {"ed": "wrote <too> little"})
    page = similarity.html_page([report])
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<b>ann" not in page
    assert "&lt;/pre&gt;&lt;script&gt;" in page and "&lt;b&gt;ann&lt;/b&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.I)
    assert "Content-Security-Policy" in page and "<mark>" in page
    assert "wrote &lt;too&gt; little" in page


@pytest.mark.parametrize("spans, want", [
    ([], "a\nb"), ([(0, 1)], "<mark>a</mark>\nb"), ([(1, 3)], "a<mark></mark>\n<mark>b</mark>".replace("<mark></mark>", "")),
])
def test_marked_lines_are_whole(spans, want):
    assert similarity._marked("a\nb", spans) == want


def test_far_lines_are_elided():
    code = "\n".join(f"line {n}" for n in range(30))
    start = code.index("line 15")
    shown = similarity._marked(code, [(start, start + 7)])
    assert "line 14" in shown and "<mark>line 15</mark>" in shown and "line 16" in shown
    assert "line 3\n" not in shown and shown.count("…") == 2


def test_fingerprints_are_the_same_in_every_process():
    import subprocess
    import sys

    here = similarity.stable_kgram_hashes("def F(V):\n    return V", 5).tolist()
    there = subprocess.run([sys.executable, "-c", "from autograder.similarity import stable_kgram_hashes as h; "
                            "print(h('def F(V):\\n    return V', 5).tolist())"], capture_output=True, text=True,
                           cwd=similarity.Path(similarity.__file__).parent.parent)
    assert there.stdout.strip() == str(here) and len(here) == 18
