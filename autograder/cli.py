"""``python -m autograder VERB``: one verb per job.

    collect        turn an LMS's download (Canvas, Moodle, Gradescope) into SUBMITTED/<student>/<exercise>/
    release        write the student version of every exercise
    grade          autograde a folder of submissions into one gradebook; grades.csv, feedback, results
    reference      write solutions/<exercise>.py from the exercise notebooks' solution regions
    gradescope     write the Gradescope autograder bundle (zip) of one exercise
    gradescope-run (inside Gradescope) grade the one submission in /autograder/submission
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.course import CourseError
from autograder.records import Limits


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = p.add_subparsers(dest="verb", required=True)

    release = verbs.add_parser("release", help="write DIR/<exercise>/<exercise>.ipynb for students")
    release.add_argument("--out", type=Path, required=True, help="folder for the student notebooks")
    release.add_argument("--exercise", action="append", help="only this exercise (repeatable)")

    grade = verbs.add_parser("grade", help="grade SUBMITTED/<student>/<exercise>/<exercise>.ipynb")
    grade.add_argument("submitted", type=Path, help="folder of student folders")
    grade.add_argument("--out", type=Path, required=True, help="folder for grades.csv, feedback/, results/")
    grade.add_argument("--exercise", action="append", help="only this exercise (repeatable)")
    grade.add_argument("--jobs", type=int, default=Limits.jobs,
                       help=f"submissions graded at once (default {Limits.jobs}: one more than the cores)")
    grade.add_argument("--timeout", type=int, default=Limits.timeout,
                       help=f"seconds for one submission (default {Limits.timeout})")
    grade.add_argument("--cell-timeout", type=int, default=Limits.cell_timeout,
                       help=f"seconds for one cell (default {Limits.cell_timeout})")
    grade.add_argument("--memory", type=int, default=Limits.memory_mb,
                       help=f"MB of memory for one submission (default {Limits.memory_mb})")
    grade.add_argument("--call-timeout", type=int, default=Limits.call_timeout,
                       help=f"seconds for one call of a student's function by the hidden tests "
                            f"(default {Limits.call_timeout})")
    grade.add_argument("--sandbox", choices=["auto", "bwrap", "uid", "none"], default=Limits.sandbox,
                       help="how student code is isolated (default: the strongest available; see README)")
    grade.add_argument("--force", action="store_true", help="regrade submissions already graded in OUT")
    grade.add_argument("--db", help="the gradebook's SQLAlchemy URL (default: sqlite:///OUT/gradebook.db)")
    grade.add_argument("--course", type=Path, help="course.toml/.json: due dates, late policies, roster, Canvas ids")
    grade.add_argument("--due", action="append", metavar="[EXERCISE=]DATETIME",
                       help="due date in ISO 8601, e.g. 2026-12-01T23:59:00+01:00 (repeatable; default: all exercises)")
    grade.add_argument("--late", metavar="POLICY", help="late policy: none, zero, 'per_day 10%% cap 50%%', 'per_hour 1'")
    grade.add_argument("--roster", type=Path, help="the LMS's roster CSV: writes canvas.csv and moodle.csv")

    gather = verbs.add_parser("collect", help="place an LMS export's notebooks as SUBMITTED/<student>/<exercise>/")
    gather.add_argument("export", type=Path, help="the LMS's zip of submissions, or the folder it was unpacked into")
    gather.add_argument("--exercise", required=True, help="the exercise these submissions are for")
    gather.add_argument("--roster", type=Path, required=True, help="the LMS's roster CSV (id, name, login, email)")
    gather.add_argument("--out", type=Path, required=True, help="the SUBMITTED folder to write")
    gather.add_argument("--times", type=Path, help="CSV of submission times (Canvas; Moodle's grading worksheet)")
    gather.add_argument("--timezone", default="UTC", help="zone of times written without an offset (default UTC)")
    verbs.add_parser("reference", help="write solutions/<exercise>.py from the notebooks' solution regions")

    bundle = verbs.add_parser("gradescope", help="write the Gradescope autograder zip of one exercise")
    bundle.add_argument("exercise", help="the exercise, e.g. elman")
    bundle.add_argument("--out", type=Path, required=True, help="the zip to write, e.g. autograder.zip")

    inside = verbs.add_parser("gradescope-run", help="(run by the bundle's run_autograder) grade one submission")
    inside.add_argument("exercise")
    inside.add_argument("--root", type=Path, default=Path("/autograder"),
                        help="Gradescope's folder: submission/ in, results/results.json out (default /autograder)")
    inside.add_argument("--sandbox", choices=["auto", "bwrap", "uid", "none"], default="auto",
                        help="how student code is isolated (default: the strongest available)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.verb == "release":
            from autograder import release
            return release.main(args.out, args.exercise)
        if args.verb == "grade":
            from autograder import grade
            limits = Limits(jobs=args.jobs, timeout=args.timeout, cell_timeout=args.cell_timeout,
                            memory_mb=args.memory, call_timeout=args.call_timeout, sandbox=args.sandbox)
            from autograder import lms
            from autograder.course import exercise_names
            course, roster = lms.settings(args.course, args.due, args.late, args.roster,
                                          args.exercise or exercise_names())
            done = grade.main(args.submitted, args.out, limits, args.exercise, force=args.force, db_url=args.db)
            return done or lms.main(args.out, args.submitted, course, roster)
        if args.verb == "collect":
            from autograder import collect
            return collect.main(args.export, args.exercise, args.roster, args.out, args.times, args.timezone)
        if args.verb == "reference":
            from autograder import reference
            return reference.main()
        if args.verb == "gradescope":
            from autograder import gradescope
            return gradescope.bundle(args.exercise, args.out)
        if args.verb == "gradescope-run":
            from autograder import gradescope
            return gradescope.run(args.exercise, args.root, args.sandbox)
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 1
