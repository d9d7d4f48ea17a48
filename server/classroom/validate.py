"""Every rule a classroom input must meet, with the error that names the field.

Students and instructors send data that other people's screens draw (names,
summaries, thumbnails, snapshots), so nothing is stored or passed on before
it is checked here: types, sizes, finite numbers, known names. A failed check
raises ``ClassroomError`` whose message starts with the field
(``summary.test_loss: must be a finite number or null, got 'x'``) and whose
``field`` says it for a program. Standard library, the spec and the lessons
module only: no HTTP, no database.
"""
from __future__ import annotations

import difflib
import logging
import math
import re
import unicodedata
from pathlib import Path

from playground.lessons import (CONTROLS, LESSON_START, LESSONS_DIR, PRESET_KEYS, VIEWS, LessonError, apply_patch,
                                current_lessons)
from playground.spec import SpecError
from playground.spec.errors import describe

log = logging.getLogger(__name__)

#: Join codes: no 0/O, 1/I/L look-alikes, so a code read off a projector is typed right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
NAME_MAX = 40
TITLE_MAX = 100
MAX_HOURS = 7 * 24
#: A summary's fields and what each must be; anything else is refused (it would reach the instructor's screen).
SUMMARY_FIELDS = ("step", "epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "gradient_norms",
                  "diverged", "trains_on", "confusion")
MAX_GRADIENT_NORMS = 64
MAX_CONFUSION = 32
MAX_STEPS = 10**12
THUMBNAIL_SIDE = 32
#: Submitted metrics, and whether a higher value ranks first on the leaderboard.
SUBMISSION_METRICS = {"test_accuracy": True, "train_accuracy": True, "test_loss": False, "train_loss": False,
                      "step": False, "epoch": False, "parameters": False}
PROGRESS_FIELDS = ("lesson", "step", "done", "completed")
MAX_PRESET_CHARS = 64 * 1024


class ClassroomError(ValueError):
    """A request the classroom refuses. ``status`` is the HTTP status that
    says what kind (400 invalid, 401 unknown token, 403 not allowed or ended,
    404 no such thing, 409 a conflict, 413 too large, 429 too many tries);
    ``field`` names the input at fault; ``retry_after`` (seconds) comes with 429."""

    def __init__(self, message: str, status: int = 400, field: str | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field
        self.retry_after = retry_after


def invalid(field: str, message: str, status: int = 400) -> ClassroomError:
    return ClassroomError(f"{field}: {message}", status, field)


def unknown(kind: str, name, known) -> str:
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    hint = f' — did you mean "{close[0]}"?' if close else ""
    return f"unknown {kind} {describe(name)}{hint} (known: {', '.join(map(str, known))})"


def body_fields(body, allowed, required=()) -> dict:
    """A request body: a JSON object with only ``allowed`` keys and every ``required`` one."""
    if not isinstance(body, dict):
        raise ClassroomError(f"the request body must be a JSON object, got {describe(body)}")
    for key in body:
        if key not in allowed:
            raise invalid(str(key), f"is not a field of this request (it takes {', '.join(allowed)})")
    for key in required:
        if key not in body:
            raise invalid(key, "is missing")
    return body


# --- numbers ----------------------------------------------------------------------------------

def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def number(field: str, value, low: float | None = None, high: float | None = None, nullable: bool = False):
    if value is None and nullable:
        return None
    if not is_number(value) or (low is not None and value < low) or (high is not None and value > high):
        span = "" if low is None and high is None else (
            f" from {low} to {high}" if low is not None and high is not None else
            f" of at least {low}" if low is not None else f" of at most {high}")
        raise invalid(field, f"must be a finite number{span}{' or null' if nullable else ''}, got {describe(value)}")
    return float(value) if isinstance(value, float) else value


def whole(field: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(field, f"must be a whole number from {low} to {high}, got {describe(value)}")
    return value


def flag(field: str, value) -> bool:
    if not isinstance(value, bool):
        raise invalid(field, f"must be true or false, got {describe(value)}")
    return value


# --- people and sessions ------------------------------------------------------------------------

def text_line(field: str, value, most: int) -> str:
    """1 to ``most`` printable characters once trimmed (no control characters, no line breaks)."""
    if not isinstance(value, str):
        raise invalid(field, f"must be text, got {describe(value)}")
    value = unicodedata.normalize("NFC", value.strip())
    if not 1 <= len(value) <= most:
        raise invalid(field, f"must be 1 to {most} characters long once trimmed, got {len(value)}")
    if not value.isprintable():
        raise invalid(field, "may hold only printable characters (no line breaks, tabs or control characters)")
    return value


def display_name(value) -> tuple[str, str]:
    """A student's name and the key that makes names unique ignoring case (and look-alike forms)."""
    name = text_line("name", value, NAME_MAX)
    return name, unicodedata.normalize("NFKC", name).casefold()


def title(value) -> str:
    return text_line("title", value, TITLE_MAX)


def join_code(value) -> str:
    """A join code as typed: case, spaces and hyphens do not matter."""
    if not isinstance(value, str):
        raise invalid("code", f"must be the {CODE_LENGTH}-character join code as text, got {describe(value)}")
    code = re.sub(r"[\s-]", "", value).upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        raise invalid("code", f"a join code is {CODE_LENGTH} characters from {CODE_ALPHABET}, got {describe(value)}")
    return code


def hours(value, default: float) -> float:
    if value is None:
        return default
    return number("hours", value, 0.001, MAX_HOURS)


def student_id(field: str, value, nullable: bool = False):
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(field, f"must be a student's id (a whole number from the roster){' or null' if nullable else ''}"
                             f", got {describe(value)}")
    return value


# --- lessons ------------------------------------------------------------------------------------

class LessonCatalogue:
    """The lessons a session may name, and their step counts, read from the
    lessons folder again when a file there changes. Lessons are edited by
    teachers while a server runs: a folder that does not load keeps the last
    good catalogue (and says so in the log) rather than stopping classes."""

    def __init__(self, folder=None):
        self.folder = Path(folder) if folder else LESSONS_DIR
        self._steps: dict[str, int] = {}
        self._problem = ""

    def steps(self) -> dict[str, int]:
        """Lesson id → number of steps."""
        try:
            self._steps = {lesson.id: len(lesson.steps) for lesson in current_lessons(self.folder)}
            self._problem = ""
        except (LessonError, OSError) as error:
            if str(error) != self._problem:  # said once, not on every request
                self._problem = str(error)
                log.warning("classroom: the lessons in %s do not load (%s); keeping the %d known ones",
                            self.folder, error, len(self._steps))
        return self._steps

    def lesson(self, field: str, value, nullable: bool = True):
        """A lesson id that exists; null (free play) when ``nullable``."""
        if value is None or value == "":
            if nullable:
                return None
            raise invalid(field, "is missing: name a lesson")
        known = self.steps()
        if not isinstance(value, str) or value not in known:
            raise invalid(field, unknown("lesson", value, sorted(known)))
        return value

    def step(self, field: str, lesson: str | None, value) -> int:
        """A step of ``lesson`` counted from 0 as the page counts them."""
        count = self.steps().get(lesson, 1) if lesson else 1
        return whole(field, value, 0, count - 1)


def progress(value, catalogue: LessonCatalogue) -> dict:
    """{lesson, step, done, completed}: the lesson and step the student is on,
    the steps whose goals they met, and whether they finished the lesson."""
    body_fields(value, PROGRESS_FIELDS, required=("lesson", "step"))
    lesson = catalogue.lesson("lesson", value["lesson"])
    step = catalogue.step("step", lesson, value["step"])
    done = value.get("done", [])
    if not isinstance(done, list):
        raise invalid("done", f"must be a list of the step numbers whose goals were met, got {describe(done)}")
    done = sorted({catalogue.step(f"done.{i}", lesson, item) for i, item in enumerate(done)})
    return {"lesson": lesson, "step": step, "done": done, "completed": flag("completed", value.get("completed", False))}


# --- what students send -------------------------------------------------------------------------

def summary(value) -> dict:
    """A training summary as the page's engine reports it (see
    ``TrainingSession.summary``): only its known fields, numbers finite."""
    if not isinstance(value, dict):
        raise invalid("summary", f"must be an object like {{\"step\": 120, \"test_loss\": 0.2}}, got {describe(value)}")
    out = {}
    for key, item in value.items():
        field = f"summary.{key}"
        if key == "step":
            out[key] = whole(field, item, 0, MAX_STEPS)
        elif key == "epoch":
            out[key] = number(field, item, 0)
        elif key in ("train_loss", "test_loss"):
            out[key] = number(field, item, nullable=True)
        elif key in ("train_accuracy", "test_accuracy"):
            out[key] = number(field, item, 0, 1, nullable=True)
        elif key == "gradient_norms":
            if not isinstance(item, list) or len(item) > MAX_GRADIENT_NORMS:
                raise invalid(field, f"must be a list of at most {MAX_GRADIENT_NORMS} numbers, got {describe(item)}")
            out[key] = [number(f"{field}.{i}", n, 0, nullable=True) for i, n in enumerate(item)]
        elif key == "diverged":
            out[key] = flag(field, item)
        elif key == "trains_on":
            if item not in ("browser", "server"):
                raise invalid(field, f"must be \"browser\" or \"server\", got {describe(item)}")
            out[key] = item
        elif key == "confusion":
            out[key] = None if item is None else _confusion(field, item)
        else:
            raise invalid(field, f"is not a summary field (known: {', '.join(SUMMARY_FIELDS)})")
    return out


def _confusion(field: str, value) -> list:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_CONFUSION:
        raise invalid(field, f"must be a square list of at most {MAX_CONFUSION} rows of counts, got {describe(value)}")
    for i, row in enumerate(value):
        if not isinstance(row, list) or len(row) != len(value):
            raise invalid(f"{field}.{i}", f"must be a row of {len(value)} counts, got {describe(row)}")
        for j, count in enumerate(row):
            whole(f"{field}.{i}.{j}", count, 0, MAX_STEPS)
    return value


def thumbnail(value):
    """A decision-surface thumbnail: side × side numbers in [-1, 1], side at
    most 32, as one flat list row by row (as the page sends it) or as a list
    of rows; kept and passed on flat. The page should round the numbers to 2
    or 3 decimals (the roster draws a cell a few pixels wide). None leaves
    the last one in place."""
    if value is None:
        return None
    wanted = f"side × side numbers from -1 to 1 (side 1 to {THUMBNAIL_SIDE}), flat or as rows"
    if not isinstance(value, list) or not value:
        raise invalid("thumbnail", f"must be {wanted}, got {describe(value)}")
    if isinstance(value[0], list):
        side = len(value)
        for i, row in enumerate(value):
            if not isinstance(row, list) or len(row) != side:
                raise invalid(f"thumbnail.{i}", f"must be a row of {side} numbers (as many as there are rows), "
                                                f"got {describe(row)}")
        flat = [item for row in value for item in row]
    else:
        flat, side = value, math.isqrt(len(value))
        if side * side != len(value):
            raise invalid("thumbnail", f"must be {wanted}; {len(value)} numbers make no square")
    if side > THUMBNAIL_SIDE:
        raise invalid("thumbnail", f"must be {wanted}, got {side} × {side}")
    # Five summaries a second from every student: check with C-speed builtins
    # (a finite sum means no NaN or infinity), item by item only to name a bad one.
    if not (set(map(type, flat)) <= _NUMBER_TYPES and math.isfinite(sum(flat)) and min(flat) >= -1
            and max(flat) <= 1):
        for index, item in enumerate(flat):
            if not is_number(item) or not -1 <= item <= 1:
                where = f"thumbnail.{index // side}.{index % side}" if isinstance(value[0], list) else \
                    f"thumbnail.{index}"
                raise invalid(where, f"must be a finite number from -1 to 1, got {describe(item)}")
    return list(flat)


_NUMBER_TYPES = {int, float}


def sent_time(value):
    """The client's clock when it sent a summary (Unix seconds), kept so that
    the instructor's page (and the benchmark) can tell how fresh it is."""
    return number("sent", value, 0, nullable=True)


def metrics(value) -> dict:
    """A submission's metrics: known names, finite numbers."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("metrics", f"must be an object like {{\"test_accuracy\": 0.97}}, got {describe(value)}")
    out = {}
    for key, item in value.items():
        if key not in SUBMISSION_METRICS:
            raise invalid(f"metrics.{key}", unknown("metric", key, SUBMISSION_METRICS))
        out[key] = number(f"metrics.{key}", item, nullable=True)
    return out


def metric_name(value) -> str:
    if value is None or value == "":
        return "test_accuracy"
    if value not in SUBMISSION_METRICS:
        raise invalid("metric", unknown("metric", value, SUBMISSION_METRICS))
    return value


def snapshot(value, most_bytes: int) -> str:
    """A snapshot file's text as the page saves it, checked as the page would
    load it, so that the gallery never offers one that cannot be opened."""
    from playground.snapshot import read_snapshot_text

    if not isinstance(value, str):
        raise invalid("snapshot", f"must be the snapshot file's text, got {describe(value)}")
    size = len(value.encode())
    if size > most_bytes:
        raise invalid("snapshot", f"is {size:,} bytes; a submission may be at most {most_bytes:,}", status=413)
    try:
        read_snapshot_text(value)
    except SpecError as error:
        raise ClassroomError(f"snapshot: {error.message}", 400, error.path or "snapshot") from None
    return value


# --- what instructors send ----------------------------------------------------------------------

def control_names(field: str, value) -> list[str]:
    """Names from ``playground.lessons.CONTROLS``, each once, in CONTROLS' order."""
    if not isinstance(value, list):
        raise invalid(field, f"must be a list of control names ({', '.join(CONTROLS)}), got {describe(value)}")
    for i, name in enumerate(value):
        if name not in CONTROLS:
            raise invalid(f"{field}.{i}", unknown("control", name, CONTROLS))
    return [name for name in CONTROLS if name in value]


def preset(value) -> dict:
    """A preset pushed to everyone, by the rules of a lesson step's preset:
    a spec patch the spec accepts (from the lessons' starting model), the
    controls it locks (or leaves unlocked) and hides, the views it shows, and
    whether training starts again."""
    import json

    if not isinstance(value, dict) or not value:
        raise invalid("preset", "must be an object with some of " + ", ".join(PRESET_KEYS) +
                      f", got {describe(value)}")
    for key in value:
        if key not in PRESET_KEYS:
            raise invalid(f"preset.{key}", unknown("preset key", key, PRESET_KEYS))
    if len(json.dumps(value)) > MAX_PRESET_CHARS:
        raise invalid("preset", f"is larger than {MAX_PRESET_CHARS:,} characters of JSON", status=413)
    out = {}
    if "spec" in value:
        patch = value["spec"]
        if not isinstance(patch, dict):
            raise invalid("preset.spec", f"must be a part of a spec, like {{\"task\": {{\"dataset\": \"xor\"}}}}, "
                                         f"got {describe(patch)}")
        try:
            apply_patch(LESSON_START, patch)
        except SpecError as error:
            where = f"preset.spec.{error.path}" if error.path else "preset.spec"
            raise ClassroomError(f"{where}: {error.message}", 400, where) from None
        out["spec"] = patch
    if "locked" in value and "unlocked" in value:
        raise invalid("preset.unlocked", "give locked or unlocked, not both")
    if "locked" in value:
        out["locked"] = control_names("preset.locked", value["locked"])
    if "unlocked" in value:
        free = control_names("preset.unlocked", value["unlocked"])
        out["locked"] = [name for name in CONTROLS if name not in free]
    if "hidden" in value:
        out["hidden"] = control_names("preset.hidden", value["hidden"])
    if "views" in value:
        views = value["views"]
        if not isinstance(views, list) or not views:
            raise invalid("preset.views", f"must list at least one of {', '.join(VIEWS)}, got {describe(views)}")
        for i, view in enumerate(views):
            if view not in VIEWS:
                raise invalid(f"preset.views.{i}", unknown("view", view, VIEWS))
        out["views"] = [view for view in VIEWS if view in views]
    if "reset" in value:
        out["reset"] = flag("preset.reset", value["reset"])
    return out
