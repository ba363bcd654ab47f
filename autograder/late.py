"""Late work: a policy, and the penalty it gives a submission (a pure function of score, times and policy).

The policies are nbgrader's (``LateSubmissionPlugin.penalty_method``: ``none``, ``zero``) and, in the spirit of its
``SubMarks`` plugin example (one mark per hour late) and of Canvas's late policy (a deduction per hour or day late,
every started hour or day counting in full, down to a floor), a deduction per hour or per day with a cap:

* ``none``: no penalty (nbgrader's default);
* ``zero``: a late submission scores 0 (the penalty is the whole score);
* ``per_hour`` / ``per_day``: ``deduct`` per started hour or day, in points or in percent of the maximum score
  (``"10%"``), at most ``cap`` (points or percent), never below 0.

A submission is late when its time is after the due date plus ``grace_minutes``; it is then late by the time since
the due date. When the LMS marked a submission late without saying when it was made (a Canvas zip without times),
it counts as one hour or one day late, and the note says so.

Written ``none``, ``zero``, ``per_day 10%``, ``per_hour 0.5 cap 50%`` or ``per_day 1 cap 3 grace 15`` (text), or as
a table (course file): ``{method = "per_day", deduct = "10%", cap = "50%", grace_minutes = 15}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

METHODS = ("none", "zero", "per_hour", "per_day")
UNIT_SECONDS = {"per_hour": 3600.0, "per_day": 86400.0}


class PolicyError(ValueError):
    """A late policy or due date that cannot be read; the message says what is expected."""


@dataclass(frozen=True)
class LatePolicy:
    method: str = "none"
    deduct: float = 0.0  # per started hour or day
    deduct_percent: bool = False  # deduct is a percent of the maximum score
    cap: float | None = None  # the most deducted (None: no cap)
    cap_percent: bool = False
    grace_minutes: float = 0.0

    def __post_init__(self):
        if self.method not in METHODS:
            raise PolicyError(f"Unknown late policy {self.method!r}; the policies are {', '.join(METHODS)}.")
        if self.deduct < 0 or (self.cap is not None and self.cap < 0) or self.grace_minutes < 0:
            raise PolicyError("A late policy's deduction, cap and grace are not negative.")

    def describe(self) -> str:
        """The policy in words, for the feedback page."""
        if self.method == "none":
            return "no penalty for late work"
        if self.method == "zero":
            return "late work scores 0"
        unit = "hour" if self.method == "per_hour" else "day"
        text = f"{_amount(self.deduct, self.deduct_percent)} per started {unit} late"
        if self.cap is not None:
            text += f", at most {_amount(self.cap, self.cap_percent)}"
        return text

    def deduction(self, units: int, max_score: float) -> float:
        per = self.deduct * max_score / 100 if self.deduct_percent else self.deduct
        total = units * per
        if self.cap is not None:
            total = min(total, self.cap * max_score / 100 if self.cap_percent else self.cap)
        return total


def _amount(value: float, percent: bool) -> str:
    return f"{value:g}%" if percent else f"{value:g} point{'s' if value != 1 else ''}"


def _parse_amount(text: str) -> tuple[float, bool]:
    text = str(text).strip()
    try:
        return (float(text[:-1]), True) if text.endswith("%") else (float(text), False)
    except ValueError:
        raise PolicyError(f"{text!r} is not an amount (points, e.g. 1.5, or a percent of the maximum, e.g. 10%).") from None


def parse_policy(text: str) -> LatePolicy:
    """A policy from text: ``METHOD [DEDUCT] [cap AMOUNT] [grace MINUTES]`` (``,`` ``:`` ``=`` count as spaces)."""
    words = str(text).replace(",", " ").replace(":", " ").replace("=", " ").replace("-", "_").split()
    if not words:
        return LatePolicy()
    method, rest = words[0].lower(), words[1:]
    fields: dict = {"method": method}
    while rest:
        word = rest.pop(0).lower()
        if word in ("cap", "grace") and rest:
            if word == "cap":
                fields["cap"], fields["cap_percent"] = _parse_amount(rest.pop(0))
            else:
                fields["grace_minutes"] = _parse_amount(rest.pop(0))[0]
        elif "deduct" not in fields:
            fields["deduct"], fields["deduct_percent"] = _parse_amount(word)
        else:
            raise PolicyError(f"Cannot read the late policy {text!r}: expected METHOD [DEDUCT] [cap AMOUNT] "
                              "[grace MINUTES], e.g. 'per_day 10% cap 50%'.")
    return LatePolicy(**fields)


def policy_from_table(table: dict) -> LatePolicy:
    """A policy from a course file's table: ``method``, ``deduct``, ``cap``, ``grace_minutes``."""
    unknown = set(table) - {"method", "deduct", "cap", "grace_minutes"}
    if unknown:
        raise PolicyError(f"Unknown late policy setting(s) {', '.join(sorted(unknown))}; "
                          "the settings are method, deduct, cap, grace_minutes.")
    fields: dict = {"method": str(table.get("method", "none")).replace("-", "_")}
    if "deduct" in table:
        fields["deduct"], fields["deduct_percent"] = _parse_amount(table["deduct"])
    if "cap" in table:
        fields["cap"], fields["cap_percent"] = _parse_amount(table["cap"])
    if "grace_minutes" in table:
        fields["grace_minutes"] = float(table["grace_minutes"])
    return LatePolicy(**fields)


def parse_moment(text: str | datetime, zone=timezone.utc) -> datetime:
    """A date and time in ISO 8601 (``2026-12-01T23:59:00+01:00``); one without an offset is in ``zone``."""
    if isinstance(text, datetime):
        moment = text
    else:
        try:
            moment = datetime.fromisoformat(str(text).strip())
        except ValueError:
            raise PolicyError(f"{text!r} is not a date and time in ISO 8601, e.g. 2026-12-01T23:59:00+01:00.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


@dataclass(frozen=True)
class Lateness:
    """How late one submission was and what that cost."""

    raw_score: float
    penalty: float
    final_score: float
    seconds_late: float | None  # None: late by the LMS's mark, time unknown
    submitted_at: datetime | None
    due: datetime | None
    note: str  # one sentence for the student ("" when on time or no due date)

    @property
    def late(self) -> bool:
        return self.seconds_late is None or self.seconds_late > 0


def apply_policy(score: float, max_score: float, submitted_at: datetime | None, due: datetime | None,
                 policy: LatePolicy, lms_late: bool = False) -> tuple[float, float]:
    """(penalty, final score) for a submission scoring ``score`` of ``max_score``, made at ``submitted_at``."""
    found = assess(score, max_score, submitted_at, due, policy, lms_late)
    return found.penalty, found.final_score


def assess(score: float, max_score: float, submitted_at: datetime | None, due: datetime | None,
           policy: LatePolicy, lms_late: bool = False) -> Lateness:
    """The :class:`Lateness` of a submission: :func:`apply_policy` with the reasons, for columns and feedback."""
    on_time = Lateness(score, 0.0, score, 0.0, submitted_at, due, "")
    if due is None:
        return on_time
    if submitted_at is not None:
        late_by = (submitted_at - due).total_seconds()
        if late_by <= policy.grace_minutes * 60:
            return on_time
    elif lms_late:
        late_by = None
    else:
        return on_time
    if policy.method == "none":
        penalty, how = 0.0, "no penalty applies"
    elif policy.method == "zero":
        penalty, how = score, "late work scores 0"
    else:
        unit = UNIT_SECONDS[policy.method]
        units = 1 if late_by is None else math.ceil(late_by / unit)
        penalty = min(score, policy.deduction(units, max_score))
        how = f"{policy.describe()}, {units} {'hour' if policy.method == 'per_hour' else 'day'}{'s' if units != 1 else ''}"
    penalty = round(max(penalty, 0.0), 6)
    final = round(score - penalty, 6)
    when = (f"{_duration(late_by)} after the due date ({due.isoformat()})" if late_by is not None else
            "after the due date, as the LMS marked it (it gave no time, so it counts as one "
            f"{'hour' if policy.method == 'per_hour' else 'day'} late)")
    note = (f"Submitted {when}: {how}. Late penalty: {penalty:g} point{'s' if penalty != 1 else ''}; "
            f"score {score:g} before the penalty, {final:g} of {max_score:g} after.")
    return Lateness(score, penalty, final, late_by, submitted_at, due, note)


def _duration(seconds: float) -> str:
    minutes = math.ceil(seconds / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")) if n]
    return " ".join(parts) or "less than a minute"


def read_timestamp(folder: Path) -> datetime | None:
    """The time in ``folder/timestamp.txt`` (nbgrader's file: ISO 8601, or ``2026-12-01 23:59:00.123 UTC``), or None.

    Read without following a link; a missing, unreadable or unparsable file gives None.
    """
    from autograder.files import NotAccepted, read_regular

    try:
        text = read_regular(Path(folder) / "timestamp.txt", 200).decode("utf-8", errors="replace").strip()
    except (NotAccepted, OSError):
        return None
    zone = timezone.utc
    head, _, last = text.rpartition(" ")
    if "/" in last:  # nbgrader's own form ends with a zone name: "... America/Los_Angeles"
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            zone, text = ZoneInfo(last), head
        except (ZoneInfoNotFoundError, ValueError):
            return None
    try:
        moment = datetime.fromisoformat(text.replace(" UTC", "+00:00").replace(" Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
