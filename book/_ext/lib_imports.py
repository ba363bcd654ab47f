"""Which modules of `book/lib/` a chapter needs, found by reading its import statements.

A chapter imports its support code as ``from lib import patterns``, ``from lib.unrolled import ...`` or
``import lib.elman1990 as sim``, and a module of `lib/` may import another one the same ways (or relatively,
``from .unrolled import ...``). `lib_modules` follows these imports transitively, so that a chapter's download
holds everything it runs, and a change to any of them can be traced back to the chapters it affects.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jupytext

PACKAGE = "lib"


def python_source(cell_source: str) -> str:
    """A code cell as plain Python: IPython's magics (``%time``, ``!ls``) turned into calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell_source)


def imported_lib_modules(code: str, inside_lib: bool = False) -> set[str]:
    """Names of the modules of `lib/` that `code` imports (``{"patterns", "unrolled"}``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE and len(parts) > 1:
                    found.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            relative = inside_lib and node.level == 1
            if node.level == 0 and node.module and node.module.split(".")[0] == PACKAGE:
                parts = node.module.split(".")
            elif relative:
                parts = [PACKAGE] + (node.module.split(".") if node.module else [])
            else:
                continue
            if len(parts) > 1:
                found.add(parts[1])
            else:  # ``from lib import patterns``: the imported names may be modules
                found.update(alias.name for alias in node.names)
    return found


def notebook_code(path: Path) -> str:
    """All code cells of a MyST-markdown (or .ipynb) notebook, as one Python source."""
    notebook = jupytext.read(path)
    return "\n".join(python_source(cell.source) for cell in notebook.cells if cell.cell_type == "code")


def lib_modules(code: str, lib_dir: Path) -> list[Path]:
    """The files of `lib_dir` that `code` needs, transitively: ``__init__.py`` first, then sorted by name.

    Names imported with ``from lib import name`` that are not modules (a function defined in
    ``__init__.py``) are ignored; ``__init__.py`` is always included when anything of `lib` is used.
    """
    wanted = {name for name in imported_lib_modules(code) if (lib_dir / f"{name}.py").is_file()}
    done: set[str] = set()
    while wanted - done:
        name = sorted(wanted - done)[0]
        done.add(name)
        inner = imported_lib_modules((lib_dir / f"{name}.py").read_text(), inside_lib=True)
        wanted |= {n for n in inner if (lib_dir / f"{n}.py").is_file()}
    uses_lib = bool(done) or PACKAGE in {alias.split(".")[0] for alias in _top_level_imports(code)}
    files = [lib_dir / f"{name}.py" for name in sorted(done)]
    init = lib_dir / "__init__.py"
    return ([init] if uses_lib and init.is_file() else []) + files


def _top_level_imports(code: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names
