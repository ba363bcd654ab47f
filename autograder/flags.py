"""A static look at a submission's own code for things an honest answer never needs.

Each flag is a short sentence for the instructor, not a verdict: the score
comes from the judge either way. Flags appear in grades.csv (column
``flags``) and in the batch summary, so a human can look.
"""

from __future__ import annotations

import re

# (pattern, what it means) — matched against the code cells a student could edit.
PATTERNS = [
    (r"\b(import|from)\s+(autograder|solutions)\b", "imports the grader or the reference solutions"),
    (r"\bget_ipython\b|\bInteractiveShell\b", "reaches into IPython (get_ipython)"),
    (r"input_transformers|\brun_cell\b|set_custom_exc|\bevents\.register\b|pre_run_cell|post_run_cell",
     "changes how later cells run (IPython transformers, run_cell, events, set_custom_exc)"),
    (r"\bsys\.(settrace|setprofile)\b|\bthreading\.settrace\b|sys\.addaudithook", "installs a trace or audit hook"),
    (r"\b(np|numpy)(\.\w+)*\.\w+\s*=[^=]|setattr\(\s*(np|numpy)\b", "replaces a NumPy function"),
    (r"\bbuiltins\b|__builtins__", "touches Python's builtins"),
    (r"\b(AssertionError|isinstance|float|len)\s*=[^=]", "redefines a builtin that tests rely on"),
    (r"def\s+__(eq|array|array_ufunc|array_function|float|bool)__", "defines an object that can lie in comparisons"),
    (r"\bclass\s+\w+\s*\(\s*(np\.|numpy\.)?ndarray\s*\)", "subclasses ndarray"),
    (r"\bopen\s*\(\s*[rbf]?['\"](/|\.\./|~)", "opens a file outside the notebook's folder"),
    (r"\b(os\.(system|popen|remove|unlink|rmdir|kill|fork)|subprocess|shutil\.rmtree|ctypes)\b",
     "runs commands, deletes files or uses low-level OS calls"),
    (r"gradebook|\.\./|/autograded/|/submitted/|/exercises/", "names grading folders or files"),
]
COMPILED = [(re.compile(pattern), meaning) for pattern, meaning in PATTERNS]


def scan(notebook) -> list[str]:
    """The flags raised by the code cells of ``notebook`` that a student could edit (each once)."""
    found = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or (meta.get("locked") and not meta.get("solution")):
            continue
        for pattern, meaning in COMPILED:
            if meaning not in found and pattern.search(cell.source):
                found.append(meaning)
    return found
