"""What a student installs and downloads: the student requirements agree with ours and cover every import of the
chapters and exercises; each chapter's download holds the support code it needs; the exercises page lists every
exercise with its chapter and its student notebook. (The built site is checked in test_book.py.)"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from autograder.course import exercise_names
from tests.helpers.notebooks import REPO

sys.path.insert(0, str(REPO / "book" / "_ext"))
from lib_imports import imported_lib_modules, lib_modules, notebook_code  # noqa: E402

BOOK = REPO / "book"
STUDENT_REQUIREMENTS = BOOK / "requirements-student.txt"
CHAPTERS = sorted(p for p in BOOK.glob("*.md") if p.read_text().startswith("---\njupytext:"))
HIDDEN_TESTS = re.compile(r"^\s*### BEGIN HIDDEN TESTS.*?^\s*### END HIDDEN TESTS\s*$", re.S | re.M)


def pins(path) -> dict[str, str]:
    """{canonical name: exact version} of a requirements file; options (``--extra-index-url``) skipped."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split(" #")[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"{path.name}: {line} is not an exact pin"
        found[canonicalize_name(requirement.name)] = specifiers[0].version
    return found


def test_student_pins_equal_ours():
    ours, students = pins(REPO / "requirements.txt"), pins(STUDENT_REQUIREMENTS)
    differ = {name: (version, ours[name]) for name, version in students.items()
              if name in ours and ours[name] != version}
    assert not differ, f"student pin differs from requirements.txt (student, ours): {differ}"


def test_student_requirements_have_what_a_student_needs():
    students = pins(STUDENT_REQUIREMENTS)
    assert students.get("torch") == "2.13.0", "torch pinned to exactly 2.13.0 (a newer one pulls a CUDA build)"
    for name in ("numpy", "torch", "edugrad", "matplotlib", "scipy", "jupyterlab", "nbgrader"):
        assert name in students, f"{name} is missing from the student requirements"
    for tool in ("jupyter-book", "playwright", "pytest", "jupytext"):
        assert tool not in students, f"{tool} is for building and testing, not for students"


def installed_closure(names) -> set[str]:
    """The distributions `names` bring in, by the metadata of what is installed here."""
    todo, seen = list(names), set()
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def top_level_imports(code: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def student_visible_code() -> dict[str, str]:
    """{where: code} for the chapters, book/lib and the exercises as students get them (no hidden tests)."""
    code = {str(path.relative_to(REPO)): notebook_code(path) for path in CHAPTERS}
    code.update({str(path.relative_to(REPO)): path.read_text() for path in (BOOK / "lib").glob("*.py")})
    for name in exercise_names():
        notebook = nbformat.read(REPO / "exercises" / name / f"{name}.ipynb", as_version=4)
        cells = [HIDDEN_TESTS.sub("", cell.source) for cell in notebook.cells if cell.cell_type == "code"]
        code[f"exercises/{name}"] = "\n".join(cells)
    return code


def test_student_requirements_cover_every_import():
    provided = installed_closure(pins(STUDENT_REQUIREMENTS))
    by_module = metadata.packages_distributions()
    missing = {}
    for where, code in student_visible_code().items():
        for module in top_level_imports(code) - set(sys.stdlib_module_names) - {"lib", "__future__"}:
            distributions = {canonicalize_name(d) for d in by_module.get(module, [module])}
            if not distributions & provided:
                missing.setdefault(module, []).append(where)
    assert not missing, f"imported but not installed by the student requirements: {missing}"


def test_intro_and_exercises_page_serve_the_student_requirements():
    for page in ("intro.md", "exercises.md"):
        text = (BOOK / page).read_text()
        assert "{download}`requirements-student.txt <requirements-student.txt>`" in text, page
        assert "pip install -r requirements-student.txt" in text and "jupyter lab" in text, page
    assert "pip install -r requirements.txt" not in (BOOK / "intro.md").read_text()


def test_lib_imports_are_found_in_every_form():
    code = "from lib import patterns as P\nimport lib.elman1990 as sim\nfrom lib.unrolled import draw\nimport libx\n"
    assert imported_lib_modules(code) == {"patterns", "elman1990", "unrolled"}
    assert imported_lib_modules("from .unrolled import _box\nfrom . import compgraph\n", inside_lib=True) == {
        "unrolled", "compgraph"}
    assert imported_lib_modules("from .unrolled import _box\n") == set(), "relative only inside lib/"


def test_chapter_downloads_hold_all_the_support_code_they_import(tmp_path):
    """For each chapter, only the lib/ files its download gets, in a fresh interpreter: its lib imports work."""
    script = ["import importlib, sys"]
    for chapter in CHAPTERS:
        code = notebook_code(chapter)
        files = lib_modules(code, BOOK / "lib")
        modules = sorted(imported_lib_modules(code) & {p.stem for p in files})
        if not files:
            assert "lib" not in top_level_imports(code), chapter.name
            continue
        folder = tmp_path / chapter.stem / "lib"
        folder.mkdir(parents=True)
        for path in files:
            shutil.copy(path, folder / path.name)
        script += ["for m in [m for m in sys.modules if m == 'lib' or m.startswith('lib.')]: del sys.modules[m]",
                   f"sys.path[0] = {str(folder.parent)!r}", "importlib.invalidate_caches()"]
        script += [f"importlib.import_module('lib.{module}')" for module in modules]
    done = subprocess.run([sys.executable, "-c", "\n".join(script)], cwd=tmp_path, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def test_exercises_page_lists_every_exercise_with_its_chapter():
    page = (BOOK / "exercises.md").read_text()
    for name in exercise_names():
        download = f"../_build/student/{name}/{name}.ipynb"
        rows = [line for line in page.splitlines() if line.startswith(f"| {{download}}`{name}.ipynb <{download}>` |")]
        assert len(rows) == 1, f"exercises.md has one row for {name}, starting with its student notebook"
        row = rows[0]
        assert f"{{exercise-points}}`{name}`" in row, f"{name}: points computed from its notebook"
        chapter = re.search(r"\{doc\}`([a-z_0-9]+)`", row).group(1)
        assert download in (BOOK / f"{chapter}.md").read_text(), f"{name}: chapter {chapter} has this exercise"


STUDENT_REQUIREMENTS_PYPI = BOOK / "requirements-student-pypi.txt"


def test_pypi_only_requirements_are_the_same_pins_without_an_index():
    """The second file, for networks that cannot reach PyTorch's index: the same pins, no index option at all."""
    assert pins(STUDENT_REQUIREMENTS_PYPI) == pins(STUDENT_REQUIREMENTS)
    options = [line for line in STUDENT_REQUIREMENTS_PYPI.read_text().splitlines() if line.strip().startswith("-")]
    assert not options, f"requirements-student-pypi.txt must install from PyPI alone: {options}"
    assert "--extra-index-url" in STUDENT_REQUIREMENTS.read_text(), "the first file is the one with PyTorch's index"
    assert "requirements-student-pypi.txt" in STUDENT_REQUIREMENTS.read_text(), "the first file names the fallback"


def test_intro_serves_the_fallback_and_explains_the_two_warnings():
    text = (BOOK / "intro.md").read_text()
    assert "{download}`requirements-student-pypi.txt <requirements-student-pypi.txt>`" in text
    assert "pip install -r requirements-student-pypi.txt" in text
    for warning in ("No nbgrader_config.py file found", "Kernel is running over TCP without encryption"):
        assert warning in text, f"the introduction explains the warning {warning!r}"
    assert "{ref}`as it explains <student-setup-offline>`" in (BOOK / "exercises.md").read_text()


def test_the_warnings_quoted_are_the_ones_the_tools_print():
    """The texts the introduction quotes are in the installed nbgrader and ipykernel (a new version may reword them)."""
    import ipykernel.kernelapp
    import nbgrader.apps.baseapp

    assert "No nbgrader_config.py file found" in Path(nbgrader.apps.baseapp.__file__).read_text()
    assert "Kernel is running over TCP without encryption." in Path(ipykernel.kernelapp.__file__).read_text()
