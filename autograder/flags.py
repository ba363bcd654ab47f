"""A static look at a submission's own code for things an honest answer never needs.

Each flag is a short sentence for the instructor, not a verdict: the score
comes from the judge either way. Flags appear in grades.csv (column
``flags``) and in the batch summary, so a human can look.

The scan runs in the grader's own process, so its cost is bounded: every
pattern runs in time linear in the code, and at most ``MAX_CELL`` characters
of a cell and ``MAX_NOTEBOOK`` of a notebook are read (beyond that, a flag
asks a human to look). Comments and strings are scanned too: a string can be
code (``exec``), and a comment naming the grader is worth a look.

The same bounded reading finds the graded functions that a submission defines
more than once (:func:`redefinitions`): not a flag, a note on the student's page.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

MAX_CELL = 200_000  # characters of one cell that are scanned
MAX_NOTEBOOK = 1_000_000  # characters of a whole notebook that are scanned

# (pattern, what it means), in the order flags are reported. Every pattern starts at
# fixed text, and none has a repeated part that could also match what follows it, so a
# search reads each character a bounded number of times. (The old NumPy pattern
# `\b(np|numpy)(\.\w+)*\.\w+\s*=` read "np.np.np..." once per "np": quadratic.)
PATTERNS = [
    (r"\b(import|from)\s+(autograder|solutions)\b", "imports the grader or the reference solutions"),
    (r"\bget_ipython\b|\bInteractiveShell\b", "reaches into IPython (get_ipython)"),
    (r"input_transformers|\brun_cell\b|set_custom_exc|\bevents\.register\b|pre_run_cell|post_run_cell",
     "changes how later cells run (IPython transformers, run_cell, events, set_custom_exc)"),
    (r"\bsys\.(settrace|setprofile)\b|\bthreading\.settrace\b|sys\.addaudithook", "installs a trace or audit hook"),
    # Only at the head of a dotted name, and the possessive `++` gives nothing back: each name is read once.
    (r"(?<![\w.])(np|numpy)(\.\w++)++\s*=(?!=)|setattr\(\s*(np|numpy)\b", "replaces a NumPy function"),
    (r"\bbuiltins\b|__builtins__", "touches Python's builtins"),
    (r"\b(AssertionError|isinstance|float|len)\s*=(?!=)", "redefines a builtin that tests rely on"),
    (r"def\s+__(eq|array|array_ufunc|array_function|float|bool)__", "defines an object that can lie in comparisons"),
    (r"\bclass\s+\w+\s*\(\s*(np\.|numpy\.)?ndarray\s*\)", "subclasses ndarray"),
    (r"\bopen\s*\(\s*[rbf]?['\"](/|\.\./|~)", "opens a file outside the notebook's folder"),
    (r"\b(os\.(system|popen|remove|unlink|rmdir|kill|fork)|subprocess|shutil\.rmtree|ctypes)\b",
     "runs commands, deletes files or uses low-level OS calls"),
    (r"gradebook|\.\./|/autograded/|/submitted/|/exercises/", "names grading folders or files"),
]
COMPILED = [(re.compile(pattern), meaning) for pattern, meaning in PATTERNS]


def scan(notebook, release=None) -> list[str]:
    """The flags (each once, in the order found) raised by the code of ``notebook`` that will run.

    ``notebook`` is the submission and ``release`` the released student version
    (nbformat NotebookNodes); see ``runnable_sources`` for which cells count.
    """
    found, budget, total, cut = [], MAX_NOTEBOOK, 0, False
    for source in runnable_sources(notebook, release):
        scanned = source[:min(MAX_CELL, budget)]
        total, budget, cut = total + len(source), budget - len(scanned), cut or len(scanned) < len(source)
        for pattern, meaning in COMPILED:
            if meaning not in found and pattern.search(scanned):
                found.append(meaning)
    if cut:
        found.append(f"is too large to scan fully ({total // 1000} kB of code)")
    return found


def runnable_sources(notebook, release=None) -> Iterator[str]:
    """The source of every cell of ``notebook`` that the grader runs as the submission holds it.

    As the worker does (``repair_structure``, ``grading_cells``): the first cell
    with a grade_id takes the type of the released cell of that id; a read-only
    cell (locked, not solution) whose grade_id is a read-only cell of ``release``
    runs the released source instead, so it is left out; a later copy of a
    grade_id runs as a plain cell. With ``release=None`` nothing is known to be
    released, so every code cell is scanned, read-only ones included.
    """
    released = {} if release is None else {grade_id(c): c for c in release.cells if grade_id(c)}
    seen = set()
    for cell in notebook.cells:
        name = grade_id(cell)
        original = released.get(name) if name not in seen else None
        seen.add(name)
        if original is not None and read_only(cell) and read_only(original):
            continue
        if (cell if original is None else original).get("cell_type") == "code":
            yield text(cell.get("source"))


def nbgrader(cell) -> dict:
    """A cell's nbgrader metadata ({} when missing or malformed, so that a bad notebook is still scanned)."""
    meta = cell.get("metadata")
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def grade_id(cell) -> str | None:
    name = nbgrader(cell).get("grade_id")
    return name if isinstance(name, str) else None


def read_only(cell) -> bool:
    meta = nbgrader(cell)
    return bool(meta.get("locked")) and not meta.get("solution")


def text(source) -> str:
    """A cell's source as one string (nbformat may hold it as a list of lines)."""
    if isinstance(source, list):
        return "".join(line for line in source if isinstance(line, str))
    return source if isinstance(source, str) else ""


# ------------------------------------------------- functions defined more than once (for the student's page)

TOP_LEVEL_DEF = re.compile(r"^(?:(?:async[ \t]+)?def|class)[ \t]+([A-Za-z_]\w*)", re.M)
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def definitions(source: str) -> list[tuple[str, int]]:
    """(name, line) of each function or class that ``source`` defines at its top level, in order.

    The code is parsed (``ast``). Code that does not parse (a syntax error, IPython's
    ``%magic`` lines) is read line by line instead: a ``def`` or ``class`` at the start
    of a line counts.
    Both take time linear in the code.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return definitions_by_line(source)
    return [(node.name, node.lineno) for node in tree.body if isinstance(node, DEFINITIONS)]


def definitions_by_line(source: str) -> list[tuple[str, int]]:
    """(name, line) of each ``def`` or ``class`` at the start of a line of ``source`` (code that does not parse)."""
    found, line, counted = [], 1, 0
    for match in TOP_LEVEL_DEF.finditer(source):
        line += source.count("\n", counted, match.start())
        counted = match.start()
        found.append((match.group(1), line))
    return found


def redefinitions(notebook, names) -> dict[str, list[tuple[int, int]]]:
    """{name: [(cell index, line), ...]} for each of ``names`` defined more than once by ``notebook``'s code cells.

    The definitions are in notebook order, so the last is the one that counts when the
    notebook runs top to bottom. At most ``MAX_CELL`` characters of a cell and
    ``MAX_NOTEBOOK`` of the notebook are read, as by :func:`scan`.
    """
    found: dict[str, list[tuple[int, int]]] = {name: [] for name in names}
    budget = MAX_NOTEBOOK
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code" or budget <= 0:
            continue
        source = text(cell.get("source"))[:min(MAX_CELL, budget)]
        budget -= len(source)
        for name, line in definitions(source):
            if name in found:
                found[name].append((index, line))
    return {name: places for name, places in found.items() if len(places) > 1}
