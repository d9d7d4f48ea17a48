"""The classroom: sessions that students join with a code, and what the
instructor sees and steers. No HTTP here (``api.py`` is the wire); the page
can use the same ``Classroom`` object in-process.

What is kept where, and why:

- Sessions, the roster, progress and submissions are in the database
  (``store.py``); progress and submissions are written before the call
  returns, so a restart loses none.
- Training summaries come five times a second from every student. The
  latest one, a sparkline of test losses and the decision-surface thumbnail
  are kept in memory and written at most every ``save_seconds`` (2 s) per
  student, in one transaction for all, and on ``close()``: the database never
  sees the full rate, and a crash loses at most the last two seconds of a
  chart, never a student.
- The instructor's roster feed is batched: at most one message every
  ``roster_seconds`` (250 ms) per session, holding only the students that
  changed, so its cost is bounded whatever the class sends.

Subscribers. ``subscribe_student`` and ``subscribe_instructor`` take a
callback ``callback(message: Message)``. **Callbacks are called from the
classroom's own delivery thread** — never from the thread that caused the
change — one at a time and in the order the messages were made, with no lock
held. A callback must return quickly: hand the message to your own event loop
(``IOLoop.add_callback``, Panel's ``doc.add_next_tick_callback``) and return.
It may call back into the classroom. An exception in a callback is logged
and does not stop delivery to others. The same ``Message`` object goes to
every subscriber of a broadcast: treat it as read-only (``text()`` gives its
JSON, made once).

Session state changes (push, locks, pause, spotlight, end) get a rising
``seq``; a client applies a ``state`` message only if its ``seq`` is not
below the last one it applied, and a pushed step or preset once (its
``push.seq`` is the ``seq`` it was pushed at).
"""
from __future__ import annotations

import csv
import io
import json
import logging
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from . import validate
from .ratelimit import SlidingWindow
from .store import DuplicateError, Store, default_database_url, hash_token
from .validate import SUBMISSION_METRICS, ClassroomError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassroomLimits:
    join_failures_per_minute: int = 10  # per client address: wrong or malformed codes
    sessions_per_hour: int = 20  # sessions created per client address
    max_students: int = 500
    snapshot_bytes: int = 2 * 1024 * 1024
    sparkline_points: int = 60
    sparkline_seconds: float = 1.0  # at most one sparkline point a second
    save_seconds: float = 2.0  # a student's latest summary reaches the database at most this often
    roster_seconds: float = 0.25  # at most one roster message this often per session
    spotlight_seconds: float = 1.0  # the spotlighted student's live summary reaches the class this often
    keep_days: float = 30.0  # sessions expired longer ago are deleted at start
    forget_seconds: float = 3600.0  # an expired session nobody watches leaves memory this long after (not the database)


@dataclass(frozen=True)
class Student:
    """A student as the classroom's methods take them (from ``join`` or ``resume``)."""

    id: int
    session_id: int
    name: str


@dataclass(frozen=True)
class Session:
    """A session as the instructor's methods take it (from ``create_session`` or ``instructor``)."""

    id: int
    code: str
    title: str


@dataclass(frozen=True)
class Created:
    code: str
    instructor_token: str
    session: Session


@dataclass(frozen=True)
class Joined:
    student_token: str
    student: Student


class Message(dict):
    """A message to subscribers: ``{"type": "state" | "roster" | "submission", …}``."""

    __slots__ = ("_text",)

    def text(self) -> str:
        """The message as compact JSON, made once however many sockets send it."""
        try:
            return self._text
        except AttributeError:
            self._text = json.dumps(self, separators=(",", ":"), allow_nan=False)
            return self._text


class _Subscription:
    __slots__ = ("callback",)

    def __init__(self, callback):
        self.callback = callback


class _LiveStudent:
    """A roster entry in memory: what the database has, plus who is connected."""

    def __init__(self, row: dict, submissions: int):
        self.id, self.session_id, self.name = row["id"], row["session_id"], row["name"]
        self.name_key, self.token_hash = row["name_key"], row["token_hash"]
        self.ref = Student(self.id, self.session_id, self.name)
        self.joined, self.last_seen = row["joined"], row["last_seen"]
        self.progress = row["progress"]
        latest = row["latest"] or {}
        self.summary = latest.get("summary")
        self.sparkline = [list(point) for point in latest.get("sparkline") or []]  # [time, test loss]
        self.thumbnail = latest.get("thumbnail")
        self.submissions = submissions
        self.subscribers: list[_Subscription] = []
        self.unsaved = False
        self.saved_at = -math.inf  # monotonic time of the last write of ``latest``

    def latest(self) -> dict:
        """For the database: a copy, since the sparkline changes in place (the summary and thumbnail are replaced)."""
        return {"summary": self.summary, "sparkline": [list(point) for point in self.sparkline],
                "thumbnail": self.thumbnail}

    def entry(self) -> dict:
        """What the instructor's roster shows of this student."""
        return {"id": self.id, "name": self.name, "online": bool(self.subscribers), "joined": self.joined,
                "last_seen": self.last_seen, "progress": self.progress, "summary": self.summary,
                "sparkline": [point[1] for point in self.sparkline], "thumbnail": self.thumbnail,
                "submissions": self.submissions}


class _LiveSession:
    def __init__(self, row: dict):
        self.id, self.code, self.title, self.lesson = row["id"], row["code"], row["title"], row["lesson"]
        self.created, self.expires, self.state = row["created"], row["expires"], dict(row["state"])
        self.token_hash = row["instructor_token_hash"]
        self.ref = Session(self.id, self.code, self.title)
        self.students: dict[int, _LiveStudent] = {}
        self.instructors: list[_Subscription] = []
        self.changed: set[int] = set()  # students the instructors have not been sent since they changed
        self.roster_due: float | None = None  # monotonic time of the next roster message
        self.roster_sent = -math.inf
        self.spotlight_due: float | None = None
        self.spotlight_sent = -math.inf
        self.spotlight_submission: dict | None = None  # the spotlighted student's latest submission
        self.end_announced = False

    def listeners(self) -> list[_Subscription]:
        return [sub for student in self.students.values() for sub in student.subscribers] + self.instructors


def _initial_state(lesson: str | None) -> dict:
    return {"lesson": lesson, "push": None, "locked": [], "paused": False, "spotlight": None, "ended": False,
            "seq": 1}


class Classroom:
    """Classroom sessions on one database. Thread-safe: HTTP handlers, the
    page's sessions and the delivery thread call it at once. ``close()``
    writes what is still in memory; call it when the server stops."""

    def __init__(self, database: str | Store | None = None, *, hours: float = 12.0, lessons_dir=None,
                 limits: ClassroomLimits | None = None, clock: Callable[[], float] = time.time):
        self.store = database if isinstance(database, Store) else Store(database or default_database_url())
        self.hours = validate.number("hours", hours, 0.001, validate.MAX_HOURS)
        self.limits = limits or ClassroomLimits()
        self.lessons = validate.LessonCatalogue(lessons_dir)
        self.clock = clock
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._sessions: dict[int, _LiveSession] = {}
        self._student_sessions: dict[int, int] = {}
        self._tokens: dict[str, tuple[str, int]] = {}  # token hash → ("student", id) or ("instructor", session id)
        self._outbox: deque = deque()  # (subscription, message) for the delivery thread
        self._join_failures = SlidingWindow(self.limits.join_failures_per_minute, 60.0)
        self._creations = SlidingWindow(self.limits.sessions_per_hour, 3600.0)
        self._closed = False
        purged = self.store.purge(clock() - self.limits.keep_days * 86400)
        if purged:
            log.info("classroom: deleted %d sessions that ended over %g days ago", purged, self.limits.keep_days)
        self._thread = threading.Thread(target=self._deliver_forever, name="classroom-delivery", daemon=True)
        self._thread.start()

    # --- sessions and people -----------------------------------------------------------------

    def create_session(self, title, lesson=None, hours=None, address: str | None = None) -> Created:
        """A new session: its join code and the instructor's token (shown
        once; only its hash is kept). ``lesson`` None: free play."""
        self._check_open()
        title = validate.title(title)
        lesson = self.lessons.lesson("lesson", lesson)
        lifetime = validate.hours(hours, self.hours)
        key = address or "local"
        wait = self._creations.wait_seconds(key)
        if wait:
            raise ClassroomError(f"too many sessions were created from this address; try again in {wait} s",
                                 429, retry_after=wait)
        token, now = secrets.token_urlsafe(32), self.clock()
        state = _initial_state(lesson)
        for _ in range(50):  # a clash of random codes is rare; give up only if something else is wrong
            code = "".join(secrets.choice(validate.CODE_ALPHABET) for _ in range(validate.CODE_LENGTH))
            try:
                session_id = self.store.insert_session(code, title, lesson, hash_token(token), now,
                                                       now + lifetime * 3600, state)
                break
            except DuplicateError:
                continue
        else:
            raise RuntimeError("no free join code after 50 tries")
        self._creations.hit(key)
        with self._lock:
            live = self._load(self.store.session(id=session_id))
        return Created(code, token, live.ref)

    def join(self, code, name, address: str | None = None) -> Joined:
        """A student joins with the code and a display name: 404 for an
        unknown code (counted against ``address``), 409 for a name taken in
        the session, 403 once the session ended, 429 after too many wrong codes."""
        self._check_open()
        key = address or "local"
        wait = self._join_failures.wait_seconds(key)
        if wait:
            raise ClassroomError(f"code: too many wrong join codes from this address; try again in {wait} s",
                                 429, "code", retry_after=wait)
        try:
            code = validate.join_code(code)
        except ClassroomError:
            self._join_failures.hit(key)
            raise
        name, name_key = validate.display_name(name)
        row = self.store.session(code=code)
        if row is None:
            self._join_failures.hit(key)
            raise ClassroomError(f"code: there is no classroom session with the code {code}; check it with your "
                                 f"instructor", 404, "code")
        taken = ClassroomError(f"name: someone in this session is already called {name!r} (names are compared "
                               f"ignoring case); choose another", 409, "name")
        with self._lock:
            live = self._load(row)
            self._check_writable(live)
            if len(live.students) >= self.limits.max_students:
                raise ClassroomError(f"this session is full ({self.limits.max_students} students)", 409, "code")
            if any(student.name_key == name_key for student in live.students.values()):
                raise taken
        token, now = secrets.token_urlsafe(32), self.clock()
        digest = hash_token(token)
        try:
            student_id = self.store.insert_student(live.id, name, name_key, digest, now)
        except DuplicateError:
            raise taken from None
        with self._lock:
            student = _LiveStudent({"id": student_id, "session_id": live.id, "name": name, "name_key": name_key,
                                    "token_hash": digest, "joined": now, "last_seen": now,
                                    "progress": None, "latest": None}, 0)
            live.students[student_id] = student
            self._student_sessions[student_id] = live.id
            self._tokens[digest] = ("student", student_id)
            self._mark_changed(live, student_id)
        return Joined(token, student.ref)

    def identify(self, token) -> Student | Session:
        """Whose token this is: a ``Student`` or a ``Session`` (its instructor); 401 for no one."""
        self._check_open()
        if not isinstance(token, str) or not token or len(token) > 256:
            raise ClassroomError("this request needs a classroom token: 'Authorization: Bearer <token>'", 401)
        digest = hash_token(token)
        with self._lock:
            known = self._tokens.get(digest)
        if known is None:  # not in memory yet (a restart, or a session not touched since): ask the database
            row = self.store.session(token_hash=digest)
            if row is None:
                session_id = self.store.student_session_id(digest)
                row = self.store.session(id=session_id) if session_id is not None else None
            if row is None:
                raise ClassroomError("this token belongs to no classroom session (it is wrong, or its session "
                                     "was deleted)", 401)
            with self._lock:
                self._load(row)
                known = self._tokens.get(digest)
        kind, ident = known
        with self._lock:
            if kind == "instructor":
                return self._sessions[ident].ref
            return self._students_live(ident).ref

    def resume(self, student_token) -> Student:
        """The student holding this token (after a reload, or a restart of the server)."""
        who = self.identify(student_token)
        if not isinstance(who, Student):
            raise ClassroomError("this is an instructor's token; a student's token is needed here", 403)
        return who

    def instructor(self, instructor_token) -> Session:
        """The session this instructor token controls; 403 for a student's token."""
        who = self.identify(instructor_token)
        if not isinstance(who, Session):
            raise ClassroomError("a student's token cannot do this: only the instructor's token (from the "
                                 "instructor link) controls a session", 403)
        return who

    # --- what students send --------------------------------------------------------------------

    def record_summary(self, student: Student | int, summary, thumbnail=None, sent=None) -> None:
        """The student's latest training summary (and thumbnail, None keeps the
        last): kept in memory, on the roster within 250 ms, in the database
        within 2 s."""
        summary = validate.summary(summary)
        thumbnail = validate.thumbnail(thumbnail)
        sent = validate.sent_time(sent)
        now, ticks = self.clock(), time.monotonic()
        with self._lock:
            live = self._students_live(student)
            session = self._sessions[live.session_id]
            self._check_writable(session, now)
            previous = live.summary or {}
            if "step" in summary and summary["step"] < previous.get("step", 0):
                live.sparkline = []  # a new run: a new line
            live.summary = dict(summary, sent=sent, received=now)
            if thumbnail is not None:
                live.thumbnail = thumbnail
            loss = summary.get("test_loss")
            if loss is not None:
                self._add_point(live, now, loss)
            live.last_seen = now
            live.unsaved = True
            self._mark_changed(session, live.id, ticks)
            if session.state.get("spotlight") == live.id and session.spotlight_due is None:
                session.spotlight_due = max(ticks, session.spotlight_sent + self.limits.spotlight_seconds)
                self._wake.notify()

    def _add_point(self, live: _LiveStudent, now: float, loss: float) -> None:
        """One sparkline point a second at most: a newer loss within the second replaces the last point's."""
        points = live.sparkline
        if points and now - points[-1][0] < self.limits.sparkline_seconds:
            points[-1] = [points[-1][0], loss]
        else:
            points.append([now, loss])
            del points[:-self.limits.sparkline_points]

    def record_progress(self, student: Student | int, progress) -> dict:
        """{lesson, step, done, completed}, written at once."""
        progress = validate.progress(progress, self.lessons)
        now = self.clock()
        with self._lock:
            live = self._students_live(student)
            self._check_writable(self._sessions[live.session_id], now)
        self.store.update_progress(live.id, progress, now)
        with self._lock:
            live.progress, live.last_seen = progress, now
            self._mark_changed(self._sessions[live.session_id], live.id)
        return progress

    def submit(self, student: Student | int, snapshot, metrics=None) -> dict:
        """A snapshot for the gallery, with its metrics, written at once."""
        metrics = validate.metrics(metrics)
        with self._lock:
            live = self._students_live(student)
            self._check_writable(self._sessions[live.session_id])
        snapshot = validate.snapshot(snapshot, self.limits.snapshot_bytes)
        now = self.clock()
        submission_id = self.store.insert_submission(live.session_id, live.id, now, snapshot, metrics)
        row = {"id": submission_id, "student_id": live.id, "created": now, "snapshot": snapshot, "metrics": metrics}
        with self._lock:
            session = self._sessions[live.session_id]
            live.submissions += 1
            live.last_seen = now
            self._mark_changed(session, live.id)
            message = Message(type="submission", submission=self._submission_entry(session, row))
            self._send(session.instructors, message)
            if session.state.get("spotlight") == live.id:
                session.spotlight_submission = row
                self._send(session.listeners(), self._state_message(session))
        return self._submission_entry(session, row)

    # --- what the instructor does --------------------------------------------------------------

    def push_step(self, session: Session | int, lesson, step) -> dict:
        """Everyone to this lesson step (from 0)."""
        lesson = self.lessons.lesson("lesson", lesson, nullable=False)
        step = self.lessons.step("step", lesson, step)
        return self._change(session, lambda seq: {"lesson": lesson,
                                                  "push": {"kind": "step", "lesson": lesson, "step": step,
                                                           "seq": seq}})

    def push_preset(self, session: Session | int, preset) -> dict:
        """A preset for everyone (a lesson step's preset: spec patch, locked, hidden, views, reset)."""
        preset = validate.preset(preset)
        return self._change(session, lambda seq: {"push": {"kind": "preset", "preset": preset, "seq": seq}})

    def set_locks(self, session: Session | int, locked) -> dict:
        """The controls locked for every student (names from ``playground.lessons.CONTROLS``)."""
        locked = validate.control_names("locked", locked)
        return self._change(session, lambda seq: {"locked": locked})

    def pause(self, session: Session | int, paused) -> dict:
        paused = validate.flag("paused", paused)
        return self._change(session, lambda seq: {"paused": paused})

    def spotlight(self, session: Session | int, student_id) -> dict:
        """Show one student's model to the class (None: nobody)."""
        student_id = validate.student_id("student", student_id, nullable=True)
        with self._lock:
            live = self._session_live(session)
            if student_id is not None and student_id not in live.students:
                raise ClassroomError(f"student: there is no student {student_id} in this session", 404, "student")
        latest = self.store.latest_submission(student_id) if student_id is not None else None

        def change(seq):
            live.spotlight_submission = latest
            return {"spotlight": student_id}
        return self._change(session, change)

    def end(self, session: Session | int) -> dict:
        """End the session now: no more joins or student writes; the instructor can still read and export."""
        now = self.clock()
        with self._lock:
            live = self._session_live(session)
            if live.state.get("ended"):
                return self._public_state(live)
            state = dict(live.state, ended=True, seq=live.state["seq"] + 1)
            expires = min(live.expires, now)
            self.store.update_session(live.id, state=state, expires=expires)
            live.state, live.expires, live.end_announced = state, expires, True
            self._send(live.listeners(), self._state_message(live))
            return self._public_state(live)

    def _change(self, session, changes: Callable[[int], dict]) -> dict:
        """A state change under the next ``seq``: written, then sent to everyone."""
        with self._lock:
            live = self._session_live(session)
            if self._has_ended(live):
                raise ClassroomError(f"the session {live.code} has ended; it can be read and exported, "
                                     f"not changed", 403)
            seq = live.state["seq"] + 1
            state = dict(live.state, **changes(seq), seq=seq)
            self.store.update_session(live.id, state=state)  # under the lock: the database sees seq in order
            live.state = state
            self._send(live.listeners(), self._state_message(live))
            return self._public_state(live)

    # --- what the instructor reads ------------------------------------------------------------

    def overview(self, session: Session | int) -> dict:
        """The session, its state, every student's roster entry and the submissions count."""
        with self._lock:
            live = self._session_live(session)
            return {"session": self._session_info(live), "state": self._public_state(live),
                    "seq": live.state["seq"], "spotlight": self._spotlight(live),
                    "students": [student.entry() for student in live.students.values()],
                    "submissions": sum(student.submissions for student in live.students.values())}

    def roster(self, session: Session | int) -> list[dict]:
        with self._lock:
            return [student.entry() for student in self._session_live(session).students.values()]

    def me(self, student: Student | int) -> dict:
        """What a student may read: their own entry, the session and the spotlight."""
        with self._lock:
            live = self._students_live(student)
            session = self._sessions[live.session_id]
            return {"student": live.entry(), "session": self.student_view(session),
                    "seq": session.state["seq"], "spotlight": self._spotlight(session)}

    def student_view(self, session) -> dict:
        """The session as a student sees it (no id, no counts)."""
        with self._lock:
            live = session if isinstance(session, _LiveSession) else self._session_live(session)
            return {"title": live.title, "lesson": live.lesson, "code": live.code, "expires": live.expires,
                    "state": self._public_state(live)}

    def session_info(self, session: Session | int) -> dict:
        with self._lock:
            return self._session_info(self._session_live(session))

    def submissions(self, session: Session | int, metric="test_accuracy") -> dict:
        """The gallery ranked by ``metric`` (accuracies highest first, losses,
        steps and sizes lowest first; submissions without it last), and the
        leaderboard: each student's best submission in the same order."""
        metric = validate.metric_name(metric)
        with self._lock:
            live = self._session_live(session)
        rows = self.store.submissions_of(live.id)
        ranked = sorted(rows, key=lambda row: _rank_key(row, metric))
        gallery = [dict(self._submission_entry(live, row), rank=rank) for rank, row in enumerate(ranked, 1)]
        best, seen = [], set()
        for entry in gallery:
            if entry["student"]["id"] not in seen:
                seen.add(entry["student"]["id"])
                best.append(dict(entry, rank=len(best) + 1))
        return {"metric": metric, "order": "highest first" if SUBMISSION_METRICS[metric] else "lowest first",
                "submissions": gallery, "leaderboard": best}

    def submission(self, session: Session | int, submission_id) -> dict:
        """One submission of this session with its snapshot text; 404 otherwise."""
        with self._lock:
            live = self._session_live(session)
        if isinstance(submission_id, bool) or not isinstance(submission_id, int):
            raise validate.invalid("submission", f"must be a submission's id, got {validate.describe(submission_id)}")
        row = self.store.submission(live.id, submission_id)
        if row is None:
            raise ClassroomError(f"there is no submission {submission_id} in this session", 404, "submission")
        return dict(self._submission_entry(live, row), snapshot=row["snapshot"])

    def export_csv(self, session: Session | int, metric="test_accuracy") -> str:
        """One row per student: name, joined, last seen, online, lesson, step,
        goals done, completed, latest test loss and accuracy, submissions and
        the best submitted value of ``metric``."""
        metric = validate.metric_name(metric)
        with self._lock:
            live = self._session_live(session)
            students = [student.entry() for student in live.students.values()]
        best = {entry["student"]["id"]: entry["metrics"].get(metric)
                for entry in self.submissions(live.id, metric)["leaderboard"]}
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["name", "joined", "last_seen", "online", "lesson", "step", "goals_done", "completed",
                         "test_loss", "test_accuracy", "submissions", f"best_{metric}"])
        for student in students:
            progress, summary = student["progress"] or {}, student["summary"] or {}
            writer.writerow([_cell(student["name"]), _iso(student["joined"]), _iso(student["last_seen"]),
                             "yes" if student["online"] else "no", progress.get("lesson") or "",
                             "" if progress.get("step") is None else progress["step"], len(progress.get("done", [])),
                             "yes" if progress.get("completed") else "no", _num(summary.get("test_loss")),
                             _num(summary.get("test_accuracy")), student["submissions"], _num(best.get(student["id"]))])
        return out.getvalue()

    # --- subscribers ---------------------------------------------------------------------------

    def subscribe_student(self, student: Student | int, callback: Callable[[Message], None]) -> Callable[[], None]:
        """``callback`` gets a ``state`` message now and on every change of the
        session's state or of the spotlight's content. The student counts as
        online while subscribed. Returns the function that unsubscribes."""
        subscription = _Subscription(callback)
        with self._lock:
            live = self._students_live(student)
            session = self._sessions[live.session_id]
            live.subscribers.append(subscription)
            live.last_seen = self.clock()
            if len(live.subscribers) == 1:
                self._mark_changed(session, live.id)  # now online
            self._send([subscription], self._state_message(session))

        def unsubscribe():
            with self._lock:
                if subscription in live.subscribers:
                    live.subscribers.remove(subscription)
                    live.last_seen = self.clock()
                    if not live.subscribers:
                        self._mark_changed(session, live.id)  # now offline
        return unsubscribe

    def subscribe_instructor(self, session: Session | int,
                             callback: Callable[[Message], None]) -> Callable[[], None]:
        """``callback`` gets the whole roster and the state now, then
        ``roster`` messages with the students that changed (at most one per
        ``roster_seconds``), ``submission`` messages as they come, and the
        ``state`` messages the students get. Returns the unsubscribe function."""
        subscription = _Subscription(callback)
        with self._lock:
            live = self._session_live(session)
            if not live.instructors:
                live.changed.clear()  # the whole roster below covers them
            live.instructors.append(subscription)
            roster = Message(type="roster", students=[s.entry() for s in live.students.values()], time=self.clock())
            self._send([subscription], roster)
            self._send([subscription], self._state_message(live))

        def unsubscribe():
            with self._lock:
                if subscription in live.instructors:
                    live.instructors.remove(subscription)
        return unsubscribe

    # --- shutting down -------------------------------------------------------------------------

    def close(self) -> None:
        """Stop delivering and write every student's latest summary. Safe to call twice."""
        with self._wake:
            if self._closed:
                return
            self._closed = True
            self._wake.notify_all()
        self._thread.join(timeout=10)
        with self._lock:
            rows = self._unsaved_rows(math.inf)
        try:
            self.store.update_latest(rows)
        finally:
            self.store.close()

    # --- inside --------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ClassroomError("the classroom is shutting down; try again in a moment", 503)

    def _check_writable(self, live: _LiveSession, now: float | None = None) -> None:
        self._check_open()
        if self._has_ended(live, now):
            raise ClassroomError(f"the classroom session {live.code} ({live.title!r}) has ended "
                                 f"({_iso(live.expires)} UTC); it takes no more students or work — ask your "
                                 f"instructor for a new code", 403)

    def _has_ended(self, live: _LiveSession, now: float | None = None) -> bool:
        """Ended by the instructor, or expired."""
        return bool(live.state.get("ended")) or (self.clock() if now is None else now) >= live.expires

    def _load(self, row: dict) -> _LiveSession:
        """A session and its roster into memory (once; under the lock)."""
        live = self._sessions.get(row["id"])
        if live is not None:
            return live
        live = _LiveSession(row)
        counts: dict[int, int] = {}
        for submission in self.store.submissions_of(live.id):
            counts[submission["student_id"]] = counts.get(submission["student_id"], 0) + 1
        for student_row in self.store.students_of(live.id):
            student = _LiveStudent(student_row, counts.get(student_row["id"], 0))
            live.students[student.id] = student
            self._student_sessions[student.id] = live.id
            self._tokens[student_row["token_hash"]] = ("student", student.id)
        spotlit = live.state.get("spotlight")
        if spotlit is not None:
            live.spotlight_submission = self.store.latest_submission(spotlit)
        live.end_announced = live.state.get("ended", False)
        self._tokens[row["instructor_token_hash"]] = ("instructor", live.id)
        self._sessions[live.id] = live
        return live

    def _session_live(self, session) -> _LiveSession:
        session_id = session.id if isinstance(session, Session) else session
        live = self._sessions.get(session_id)
        if live is None:
            row = self.store.session(id=session_id)
            if row is None:
                raise ClassroomError(f"there is no classroom session {session_id}", 404)
            live = self._load(row)
        return live

    def _students_live(self, student) -> _LiveStudent:
        student_id = student.id if isinstance(student, Student) else student
        session_id = self._student_sessions.get(student_id)
        if session_id is None and isinstance(student, Student):  # its session left memory: back it comes
            session_id = self._session_live(student.session_id).id
        if session_id is None or student_id not in self._sessions[session_id].students:
            raise ClassroomError(f"there is no student {student_id} (use the token from join)", 404, "student")
        return self._sessions[session_id].students[student_id]

    def _forget_idle(self, wall: float) -> None:
        """Expired sessions nobody watches leave memory (they stay in the
        database, and come back on the next request that names them)."""
        for live in list(self._sessions.values()):
            if (wall < live.expires + self.limits.forget_seconds or live.instructors
                    or any(s.subscribers or s.unsaved for s in live.students.values())):
                continue
            del self._sessions[live.id]
            self._tokens.pop(live.token_hash, None)
            for student in live.students.values():
                self._student_sessions.pop(student.id, None)
                self._tokens.pop(student.token_hash, None)

    def _mark_changed(self, session: _LiveSession, student_id: int, ticks: float | None = None) -> None:
        """The instructors see this student again in the next roster message."""
        session.changed.add(student_id)
        if session.instructors and session.roster_due is None:
            now = time.monotonic() if ticks is None else ticks
            session.roster_due = max(now, session.roster_sent + self.limits.roster_seconds)
            self._wake.notify()

    def _send(self, subscriptions, message: Message) -> None:
        """Queue for the delivery thread (under the lock, so per-subscriber order is the order of changes)."""
        for subscription in subscriptions:
            self._outbox.append((subscription, message))
        self._wake.notify()

    def _public_state(self, live: _LiveSession) -> dict:
        state = dict(live.state)
        state["ended"] = self._has_ended(live)
        state["expires"] = live.expires
        return state

    def _session_info(self, live: _LiveSession) -> dict:
        state = self._public_state(live)
        return {"id": live.id, "code": live.code, "title": live.title, "lesson": live.lesson,
                "created": live.created, "expires": live.expires, "ended": state["ended"], "state": state,
                "seq": live.state["seq"]}

    def _state_message(self, live: _LiveSession) -> Message:
        return Message(type="state", state=self._public_state(live), seq=live.state["seq"],
                       spotlight=self._spotlight(live))

    def _spotlight(self, live: _LiveSession) -> dict | None:
        """What the class sees of the spotlighted student: name, latest
        summary, sparkline, thumbnail and latest submitted snapshot."""
        student = live.students.get(live.state.get("spotlight"))
        if student is None:
            return None
        submission = live.spotlight_submission
        return {"student": {"id": student.id, "name": student.name}, "summary": student.summary,
                "sparkline": [point[1] for point in student.sparkline], "thumbnail": student.thumbnail,
                "submission": None if submission is None else {"id": submission["id"],
                                                               "created": submission["created"],
                                                               "metrics": submission["metrics"]},
                "snapshot": None if submission is None else submission["snapshot"]}

    def _submission_entry(self, live: _LiveSession, row: dict) -> dict:
        student = live.students.get(row["student_id"])
        return {"id": row["id"], "student": {"id": row["student_id"], "name": student.name if student else None},
                "created": row["created"], "metrics": row["metrics"]}

    def _unsaved_rows(self, now: float) -> list[dict]:
        rows = []
        for live in self._sessions.values():
            for student in live.students.values():
                if student.unsaved and now - student.saved_at >= self.limits.save_seconds:
                    rows.append({"id": student.id, "latest": student.latest(), "last_seen": student.last_seen})
                    student.unsaved, student.saved_at = False, now
        return rows

    def _deliver_forever(self) -> None:
        """The delivery thread: messages to subscribers, the batched roster,
        the spotlight's refreshes, the end of sessions, and the periodic save."""
        next_save = time.monotonic() + self.limits.save_seconds / 4
        while True:
            with self._wake:
                while True:
                    if self._closed:
                        return
                    now, wall = time.monotonic(), self.clock()
                    wake_at, due = next_save, bool(self._outbox) or now >= next_save
                    for live in self._sessions.values():
                        for at in (live.roster_due, live.spotlight_due):
                            if at is not None:
                                due, wake_at = due or at <= now, min(wake_at, at)
                        if not live.end_announced:  # tell everyone when the session expires
                            due, wake_at = due or wall >= live.expires, min(wake_at, now + live.expires - wall)
                    if due:
                        break
                    self._wake.wait(max(0.001, wake_at - now))
                deliveries = list(self._outbox)
                self._outbox.clear()
                for live in self._sessions.values():
                    if live.roster_due is not None and live.roster_due <= now:
                        students = [live.students[i].entry() for i in sorted(live.changed) if i in live.students]
                        live.changed.clear()
                        live.roster_due, live.roster_sent = None, now
                        if students:
                            message = Message(type="roster", students=students, time=wall)
                            deliveries += [(sub, message) for sub in live.instructors]
                    end = not live.end_announced and wall >= live.expires
                    if end or (live.spotlight_due is not None and live.spotlight_due <= now):
                        live.end_announced = live.end_announced or end
                        live.spotlight_due, live.spotlight_sent = None, now
                        message = self._state_message(live)
                        deliveries += [(sub, message) for sub in live.listeners()]
                rows = []
                if now >= next_save:
                    rows = self._unsaved_rows(now)
                    self._forget_idle(wall)
                    next_save = now + self.limits.save_seconds / 4
            for subscription, message in deliveries:
                try:
                    subscription.callback(message)
                except Exception:  # one broken subscriber must not silence the others
                    log.exception("classroom: a subscriber's callback failed")
            if rows:
                try:
                    self.store.update_latest(rows)
                except Exception:
                    log.exception("classroom: saving %d students' latest summaries failed; will try again",
                                  len(rows))
                    with self._lock:
                        for row in rows:
                            student = self._students_live(row["id"])
                            student.unsaved, student.saved_at = True, -math.inf


def _rank_key(row: dict, metric: str):
    value = (row["metrics"] or {}).get(metric)
    if value is None:
        return (1, 0.0, row["id"])
    return (0, -value if SUBMISSION_METRICS[metric] else value, row["id"])


def _iso(seconds) -> str:
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(value) -> str:
    return "" if value is None else f"{value:.6g}"


def _cell(text: str) -> str:
    """A spreadsheet must not run a name as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
