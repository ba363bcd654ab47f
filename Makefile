# Two commands do everything on a fresh machine:
#   make book   set up .venv, build the student notebooks and the website
#   make test   set up .venv and run every test
# Everything generated lands in _build/ (never committed).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
MATHJAX_VERSION := 3.2.2

.PHONY: book student site test fast-test venv serve clean bench rebuild-times

book: site

venv: $(STAMP)

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# MathJax from the npm registry, served from _static: the site needs no CDN.
_build/vendor/static/mathjax/tex-chtml.js:
	mkdir -p _build/vendor/static
	cd _build/vendor && npm install --no-audit --no-fund --silent mathjax@$(MATHJAX_VERSION)
	rm -rf _build/vendor/static/mathjax
	cp -r _build/vendor/node_modules/mathjax/es5 _build/vendor/static/mathjax

# Student versions of every exercise (nbgrader generate_assignment), made again only when an exercise or the
# autograder changes: rewriting them would make every chapter that links one be read again.
STUDENT_SOURCES := $(shell find exercises autograder -type f -not -path '*/__pycache__/*' 2>/dev/null)
student: _build/student/.released

_build/student/.released: $(STAMP) $(STUDENT_SOURCES)
	$(PY) -m autograder release --out _build/student
	touch $@

# Chapters run through the execution cache (_build/.jupyter_cache): a rebuild executes only what changed.
# Sphinx reports a page's warnings only when it reads the page, so after a failed build the saved environment
# (_build/.doctrees) goes: the next build reads every page again (outputs from the cache) and fails again.
site: student _build/vendor/static/mathjax/tex-chtml.js
	$(VENV)/bin/jupyter-book build . --builder html -W --keep-going || { rm -rf _build/.doctrees; exit 1; }

test: student _build/vendor/static/mathjax/tex-chtml.js
	$(PY) -m pytest

# Under a minute, no npm, no browser, no sandbox: every stage's unit tests (tests/unit) and the exercises in
# process (tests/exercises: references, mutants, sources), leaving out the judge's sandboxed probes (test_judge.py).
fast-test: $(STAMP)
	$(PY) -m pytest tests/unit tests/exercises --ignore=tests/exercises/test_judge.py -q

serve:
	$(PY) -m http.server --directory _build/html 8000

clean:
	rm -rf _build .jupyter_cache

# Grading throughput on this machine (prints figures; asserts nothing about speed).
bench: student
	$(PY) -m tools.benchmark

# Book build times in a temporary copy: clean, unchanged, one chapter touched, one chapter edited (prints figures;
# ARGS="--chapter book/x.md --allow-warnings" to pass options).
rebuild-times: student _build/vendor/static/mathjax/tex-chtml.js
	$(PY) -m tools.rebuild_times $(ARGS)
