"""A class of 20 ``decorators`` submissions and the same class as three LMSs export it (Canvas, Moodle, Gradescope).

Used by tests/e2e/test_round_trip.py. The class: 16 students with honest answers written independently (any two share
at most one answer cell: the cells' variants are chosen as (x, y, x + y mod 5), a Latin square), two who copied
one from the other with renamed variables, and two who left it blank. Two students submitted twice, three were
late, and each export also holds two files of people who are not in the roster.

Each export is built as its LMS writes it (see autograder/collect.py for the sources): Canvas's flat
``<name>[_late]_<user id>_<file id>_<file>``, Moodle's ``<Full Name>_<participant>_assignsubmission_file/``
folders, Gradescope's ``submission_<id>/`` folders and ``submission_metadata.yml``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import nbformat
import yaml

from tests.helpers.notebooks import grade_id, is_answer, reference_answers, submission

EXERCISE = "decorators"
ZONE = ZoneInfo("Europe/Berlin")
DUE = datetime(2026, 12, 1, 23, 59, tzinfo=ZONE)
POLICY = "per_day 10% cap 50%"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")

COUNT_CALLS = [
    """    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        wrapper.calls += 1
        return fn(*args, **kwargs)

    wrapper.calls = 0
    return wrapper""",
    """    def counted(*a, **kw):
        counted.calls = counted.calls + 1
        result = fn(*a, **kw)
        return result
    counted.calls = 0
    functools.update_wrapper(counted, fn)
    return counted""",
    """    tally = [0]

    @functools.wraps(fn)
    def inner(*args, **kwargs):
        tally[0] += 1
        inner.calls = tally[0]
        return fn(*args, **kwargs)
    inner.calls = tally[0]
    return inner""",
    """    def call(*positional, **named):
        setattr(call, "calls", getattr(call, "calls") + 1)
        return fn(*positional, **named)

    setattr(call, "calls", 0)
    return functools.wraps(fn)(call)""",
    """    decorate = functools.wraps(fn)

    def on_call(*args, **kwargs):
        on_call.calls += 1  # one more call of fn
        answer = fn(*args, **kwargs)
        return answer
    on_call.calls = 0
    on_call = decorate(on_call)
    return on_call""",
]

REGISTER = [
    """    def decorator(fn):
        registry[fn.__name__] = fn
        return fn

    return decorator""",
    """    def store(function):
        registry.update({function.__name__: function})
        return function
    return store""",
    """    def add(f):
        name = f.__name__
        if name not in registry or registry[name] is not f:
            registry[name] = f
        return f
    return add""",
    """    def keep(func):
        registry.__setitem__(getattr(func, "__name__"), func)
        return func
    return keep""",
    """    def wrap(fn):
        registry[fn.__name__] = fn
    return wrap""",  # a mistake: the decorated name becomes None
]

TENSOR_OP = [
    """    def fn(*inputs, **kwargs):
        ctx = []
        value = op.forward(ctx, *[tensor.value for tensor in inputs], **kwargs)
        output = Tensor(value, inputs, op.__name__)

        def _backward():
            grads = op.backward(ctx, output.grad)
            for tensor, grad in zip(inputs, grads):
                tensor.grad += grad

        output._backward = _backward
        return output

    return fn""",
    """    def apply(*tensors, **options):
        saved = []
        values = [t.value for t in tensors]
        result = Tensor(op.forward(saved, *values, **options), tensors, op.__name__)

        def back():
            for t, g in zip(tensors, op.backward(saved, result.grad)):
                t.grad = t.grad + g
        result._backward = back
        return result
    return apply""",
    """    def run(*args, **kw):
        context = list()
        raw = []
        for a in args:
            raw.append(a.value)
        out = op.forward(context, *raw, **kw)
        node = Tensor(out, args, op.__name__)

        def propagate():
            gradients = op.backward(context, node.grad)
            i = 0
            while i < len(args):
                args[i].grad += gradients[i]
                i += 1

        node._backward = propagate
        return node
    return run""",
    """    def call(*inputs, **kwargs):
        ctx = []
        forward_value = op.forward(ctx, *(x.value for x in inputs), **kwargs)
        out = Tensor(forward_value, inputs, op.__name__)

        def backward_step():
            for position, contribution in enumerate(op.backward(ctx, out.grad)):
                inputs[position].grad += contribution
        setattr(out, "_backward", backward_step)
        return out
    return call""",
    """    def f(*xs, **kwargs):
        ctx = []
        y = Tensor(op.forward(ctx, *[x.value for x in xs], **kwargs), xs, op.__name__)

        def step():
            for x, dx in zip(xs, op.backward(ctx, y.grad)):
                x.grad = dx  # a mistake: overwrites instead of adding
        y._backward = step
        return y
    return f""",
]

# The pair that copied: an answer of its own (no variant above), then the same with every name changed.
COPIED = {
    "count_calls": """    state = {"n": 0}

    def counting_wrapper(*call_args, **call_kwargs):
        state["n"] = state["n"] + 1
        counting_wrapper.calls = state["n"]
        outcome = fn(*call_args, **call_kwargs)
        return outcome

    counting_wrapper.calls = state["n"]
    counting_wrapper = functools.wraps(fn)(counting_wrapper)
    return counting_wrapper""",
    "register": """    def registering_decorator(target_function):
        function_name = target_function.__name__
        registry[function_name] = target_function
        return target_function

    return registering_decorator""",
    "tensor_op": """    def build_node(*input_tensors, **forward_options):
        saved_context = []
        input_values = [each_tensor.value for each_tensor in input_tensors]
        forward_result = op.forward(saved_context, *input_values, **forward_options)
        result_node = Tensor(forward_result, input_tensors, op.__name__)

        def run_backward():
            input_gradients = op.backward(saved_context, result_node.grad)
            for each_tensor, each_gradient in zip(input_tensors, input_gradients):
                each_tensor.grad += each_gradient

        result_node._backward = run_backward
        return result_node

    return build_node""",
}
RENAMES = [("state", "memo"), ("counting_wrapper", "wrapped_fn"), ("call_args", "xs"), ("call_kwargs", "kws"),
           ("outcome", "res"), ("registering_decorator", "reg"), ("target_function", "g"),
           ("function_name", "key"), ("build_node", "make"), ("input_tensors", "ins"),
           ("forward_options", "opts"), ("saved_context", "cache"), ("input_values", "vals"),
           ("forward_result", "fwd"), ("result_node", "res_t"), ("run_backward", "go_back"),
           ("input_gradients", "grads_in"), ("each_tensor", "t"), ("each_gradient", "g_t")]


@dataclass
class Student:
    key: str  # login, and the folder under SUBMITTED/
    first: str
    last: str
    canvas_id: int
    participant: int  # Moodle's participant number for this assignment
    sid: str  # SIS User ID / Gradescope SID
    answers: dict[str, str] | None  # None: blank
    submitted_at: datetime
    earlier: dict[str, str] | None = None  # a first submission, superseded

    @property
    def email(self) -> str:
        return f"{self.key}@uni.example"

    @property
    def full_name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def canvas_name(self) -> str:  # Canvas writes the sortable name, lower case, without punctuation
        return "".join(ch for ch in f"{self.last}{self.first}".lower() if ch.isalnum() or ch == "_")


FIRST = ["Ada", "Ben", "Cem", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jil", "Kai", "Lea", "Max", "Nia",
         "Oli", "Pia", "Quin", "Rosa", "Sven", "Tia"]
LAST = ["Abel", "Brandt", "Celik", "Dorn", "Engel", "Fuchs", "Graf", "Haas", "Iske", "Jahn", "Kurz", "Lang",
        "Mohr", "Nagel", "Ostrow", "Pohl", "Quast", "Rau", "Seidel", "Thal"]
COPY_PAIR = ("s016", "s017")
BLANK = ("s018", "s019")
RESUBMITTED = ("s003", "s016")
LATE = {"s005": timedelta(hours=2), "s010": timedelta(hours=30), "s017": timedelta(days=10)}


def with_body(header: str, body: str) -> str:
    """An answer cell: the released signature and docstring, then the student's body."""
    return header.rstrip("\n") + "\n" + body


def release_headers(student_version) -> dict[str, str]:
    """{answer cell id: its released source without nbgrader's stub}."""
    return {grade_id(c): "\n".join(line for line in c.source.splitlines() if line.strip() not in STUB)
            for c in student_version.cells if is_answer(c)}


def honest_answers(k: int, headers: dict[str, str]) -> dict[str, str]:
    x, y = k % 5, k // 5
    return {"count_calls": with_body(headers["count_calls"], COUNT_CALLS[x]),
            "register": with_body(headers["register"], REGISTER[y]),
            "tensor_op": with_body(headers["tensor_op"], TENSOR_OP[(x + y) % 5])}


def copied_answers(headers: dict[str, str], renamed: bool) -> dict[str, str]:
    answers = {}
    for cell, body in COPIED.items():
        if renamed:
            for old, new in RENAMES:
                body = body.replace(old, new)
        answers[cell] = with_body(headers[cell], body)
    return answers


def build_class(student_version) -> list[Student]:
    """The 20 students, with their answers and submission times."""
    headers = release_headers(student_version)
    students = []
    for k in range(20):
        key = f"s{k:03d}"
        if key in COPY_PAIR:
            answers = copied_answers(headers, renamed=key == COPY_PAIR[1])
        elif key in BLANK:
            answers = None
        else:
            answers = honest_answers(k, headers)
        when = DUE + LATE[key] if key in LATE else DUE - timedelta(hours=3, minutes=7 * k)
        earlier = honest_answers((k + 7) % 16, headers) if key in RESUBMITTED else None
        students.append(Student(key, FIRST[k], LAST[k], 48000 + k, 731000 + k, f"S{k:05d}", answers, when, earlier))
    return students


def notebook_bytes(student_version, answers) -> bytes:
    return nbformat.writes(submission(student_version, answers)).encode()


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


# ------------------------------------------------------------------ the hand-made layout


def hand_made(folder: Path, students: list[Student], student_version) -> None:
    for s in students:
        target = folder / s.key / EXERCISE
        target.mkdir(parents=True)
        (target / f"{EXERCISE}.ipynb").write_bytes(notebook_bytes(student_version, s.answers))
        (target / "timestamp.txt").write_text(iso(s.submitted_at) + "\n")


# ------------------------------------------------------------------ rosters, as each LMS exports them


def canvas_roster(students: list[Student]) -> str:
    """Canvas's gradebook export: the roster it keys grades with (no email column)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Week 1 (4411)"])
    w.writerow(["    Points Possible", "", "", "", "", "5"])
    for s in students:
        w.writerow([f"{s.last}, {s.first}", s.canvas_id, s.sid, s.key, "Lecture A", "5"])
    w.writerow(["Student, Test", "47999", "", "", "Lecture A", ""])
    return out.getvalue()


def moodle_worksheet(students: list[Student]) -> str:
    """Moodle's grading worksheet for the assignment: its roster (Identifier, Full name, Email) and the times."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"])
    for s in students:
        local = s.submitted_at.astimezone(ZONE)
        w.writerow([f"Participant {s.participant}", s.full_name, s.email, "Submitted for grading", "", "10.00",
                    "Yes", local.strftime("%A, %-d %B %Y, %-I:%M %p"), "-", ""])
    return out.getvalue()


def gradescope_roster(students: list[Student]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["First Name", "Last Name", "SID", "Email", "Role", "Sections"])
    for s in students:
        w.writerow([s.first, s.last, s.sid, s.email, "Student", ""])
    return out.getvalue()


def canvas_times(students: list[Student]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["ID", "submitted_at"])
    for s in students:
        w.writerow([s.canvas_id, iso(s.submitted_at)])
    return out.getvalue()


# ------------------------------------------------------------------ the exports


def canvas_export(path: Path, students: list[Student], student_version) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for s in students:
            late = "_late" if s.key in LATE else ""
            prefix = f"{s.canvas_name}{late}_{s.canvas_id}"
            if s.earlier is not None:
                z.writestr(f"{prefix}_{600000 + s.canvas_id}_{EXERCISE}.ipynb", notebook_bytes(student_version, s.earlier))
                z.writestr(f"{prefix}_{700000 + s.canvas_id}_{EXERCISE}-1.ipynb", notebook_bytes(student_version, s.answers))
            else:
                z.writestr(f"{prefix}_{600000 + s.canvas_id}_{EXERCISE}.ipynb", notebook_bytes(student_version, s.answers))
        z.writestr(f"nobodyhere_99001_800001_{EXERCISE}.ipynb", notebook_bytes(student_version, None))
        z.writestr(f"ghostghost_late_99002_800002_{EXERCISE}.ipynb", notebook_bytes(student_version, None))


def moodle_export(path: Path, students: list[Student], student_version) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for s in students:
            folder = f"{s.full_name}_{s.participant}_assignsubmission_file"
            if s.earlier is not None:
                z.writestr(f"{folder}/{EXERCISE}.ipynb", notebook_bytes(student_version, s.earlier))
                z.writestr(f"{folder}/{EXERCISE} (1).ipynb", notebook_bytes(student_version, s.answers))
            else:
                z.writestr(f"{folder}/{EXERCISE}.ipynb", notebook_bytes(student_version, s.answers))
        z.writestr(f"Nobody Here_799001_assignsubmission_file/{EXERCISE}.ipynb", notebook_bytes(student_version, None))
        z.writestr(f"Ghost Ghost_799002_assignsubmission_file/{EXERCISE}.ipynb", notebook_bytes(student_version, None))


def gradescope_export(path: Path, students: list[Student], student_version) -> None:
    root = "assignment_5551_export"
    metadata, number = {}, 9100000

    def add(z, submitters, created, answers):
        nonlocal number
        number += 1
        folder = f"submission_{number}"
        z.writestr(f"{root}/{folder}/{EXERCISE}.ipynb", notebook_bytes(student_version, answers))
        metadata[folder] = {":submitters": submitters, ":created_at": created, ":score": 0.0,
                            ":status": "processed", ":history": []}

    with zipfile.ZipFile(path, "w") as z:
        for s in students:
            me = [{":name": s.full_name, ":sid": s.sid, ":email": s.email}]
            if s.earlier is not None:
                add(z, me, s.submitted_at - timedelta(hours=5), s.earlier)
            add(z, me, s.submitted_at, s.answers)
        add(z, [{":name": "Nobody Here", ":sid": "X1", ":email": "nobody@elsewhere.example"}], DUE, None)
        add(z, [{":name": "Ghost Ghost", ":sid": "X2", ":email": "ghost@elsewhere.example"}], DUE, None)
        z.writestr(f"{root}/submission_metadata.yml", yaml.safe_dump(metadata, sort_keys=False))


def course_toml(path: Path, canvas_id: int = 4412) -> None:
    path.write_text(f'timezone = "Europe/Berlin"\n\n[late]\nmethod = "per_day"\ndeduct = "10%"\ncap = "50%"\n\n'
                    f'[exercises.{EXERCISE}]\ndue = {DUE.isoformat()}\ncanvas_id = {canvas_id}\n'
                    f'title = "Decorators"\n')


def expected_scores(students: list[Student]) -> dict[str, float]:
    """{student: points} by running the answers and every test (hidden ones too) in this process."""
    from tests.helpers.inprocess import run_exercise

    points = {grade_id(c): c.metadata["nbgrader"]["points"] for c in
              nbformat.read(Path(__file__).resolve().parents[2] / "exercises" / EXERCISE / f"{EXERCISE}.ipynb",
                            as_version=4).cells if c.metadata.get("nbgrader", {}).get("grade")}
    blank = {cell: "raise NotImplementedError()" for cell in reference_answers(EXERCISE)}
    found = {}
    for s in students:
        verdicts = run_exercise(EXERCISE, s.answers or blank)
        found[s.key] = float(sum(points[name] for name, (passed, _) in verdicts.items() if passed))
    return found
