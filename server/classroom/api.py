"""The classroom's HTTP API: JSON REST endpoints and one websocket
(``/api/classroom/live``), on the web server's Tornado application (Panel's
``extra_patterns``). The README's "Classroom API" lists them.

Who may do what is decided by the token alone (``Authorization: Bearer
<token>``, or ``?token=`` for a browser's websocket): an instructor token
controls its own session and nothing else; a student token reads only its
own record, the session's state and what the instructor spotlights. There
are no cookies, so a page on another origin gains nothing it does not hold.

Errors are JSON ``{"error": "<field>: <what is wrong>", "field": …}`` with
the status saying what kind (400, 401, 403, 404, 409, 413, 429 with
``retry_after`` and a Retry-After header, 503 while shutting down).
"""
from __future__ import annotations

import json
import re
from collections import deque

from tornado.ioloop import IOLoop
from tornado.web import RequestHandler
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..json_api import JsonApiMixin
from .service import Classroom, Message, Session, Student
from .validate import ClassroomError, body_fields

NO_TOKEN = ("this request needs a classroom token: send the header 'Authorization: Bearer <token>' "
            "(a browser's websocket may add ?token=<token> to the URL instead)")
#: The largest request body other than a submission, and the largest websocket message.
MAX_BODY = 256 * 1024
PING_SECONDS = 20.0


class _ClassroomMixin(JsonApiMixin):
    """The token and JSON bodies; JSON replies and errors (json_api.py)."""

    realm = "playground classroom"
    failure_words = "the classroom"
    no_token_words = NO_TOKEN
    separators = (",", ":")

    max_body = MAX_BODY

    def initialize(self, classroom: Classroom):
        self.classroom = classroom

    # --- who is asking --------------------------------------------------------------------

    def refused(self, status: int, words: str) -> Exception:
        return ClassroomError(words, status)

    def student(self) -> Student:
        return self.classroom.resume(self.given_token())

    def instructor(self) -> Session:
        return self.classroom.instructor(self.given_token())

    # --- bodies and replies -----------------------------------------------------------------

    def body(self, allowed, required=()) -> dict:
        raw = self.request.body or b""
        if len(raw) > self.max_body:
            raise ClassroomError(f"the request body is {len(raw):,} bytes; this endpoint takes at most "
                                 f"{self.max_body:,}", 413)
        try:
            body = json.loads(raw or b"null")
        except (ValueError, RecursionError) as error:
            raise ClassroomError(f"the request body is not JSON ({error})") from None
        return body_fields(body, allowed, required)

    # --- errors -------------------------------------------------------------------------------

    def refusal(self, error) -> dict | None:
        if not isinstance(error, ClassroomError):
            return None
        self.set_status(error.status)
        body = {"error": error.message}
        if error.field:
            body["field"] = error.field
        if error.retry_after is not None:
            body["retry_after"] = error.retry_after
            self.set_header("Retry-After", str(error.retry_after))
        return body

    def log_exception(self, typ, value, tb):
        if isinstance(value, ClassroomError):  # a refused request, answered: not a server failure
            return
        super().log_exception(typ, value, tb)


# --- sessions and joining ---------------------------------------------------------------------

class SessionsHandler(_ClassroomMixin, RequestHandler):
    """POST /api/classroom/sessions {title, lesson, hours?} → 201 {code, instructor_token, session}."""

    def post(self):
        body = self.body(("title", "lesson", "hours"), required=("title",))
        created = self.classroom.create_session(body["title"], body.get("lesson"), body.get("hours"),
                                                address=self.request.remote_ip)
        self.reply({"code": created.code, "instructor_token": created.instructor_token,
                    "session": self.classroom.session_info(created.session)}, 201)


class JoinHandler(_ClassroomMixin, RequestHandler):
    """POST /api/classroom/join {code, name} → 201 {student_token, student, session}."""

    def post(self):
        body = self.body(("code", "name"), required=("code", "name"))
        joined = self.classroom.join(body["code"], body["name"], address=self.request.remote_ip)
        self.reply({"student_token": joined.student_token,
                    "student": {"id": joined.student.id, "name": joined.student.name},
                    "session": self.classroom.student_view(joined.student.session_id)}, 201)


# --- students -----------------------------------------------------------------------------------

class MeHandler(_ClassroomMixin, RequestHandler):
    """GET /api/classroom/me: the student's own record, the session's state and the spotlight."""

    def get(self):
        self.reply(self.classroom.me(self.student()))


class ProgressHandler(_ClassroomMixin, RequestHandler):
    """POST /api/classroom/progress {lesson, step, done, completed}."""

    def post(self):
        student = self.student()
        progress = self.classroom.record_progress(student, self.body(("lesson", "step", "done", "completed")))
        self.reply({"progress": progress})


class SummaryHandler(_ClassroomMixin, RequestHandler):
    """POST /api/classroom/summary {summary, thumbnail, sent?} (the websocket is the cheaper way)."""

    def post(self):
        student = self.student()
        body = self.body(("summary", "thumbnail", "sent"), required=("summary",))
        self.classroom.record_summary(student, body["summary"], body.get("thumbnail"), body.get("sent"))
        self.reply({"ok": True})


class SubmissionsHandler(_ClassroomMixin, RequestHandler):
    """POST (student) {snapshot, metrics} → 201 {submission}; GET (instructor)
    ?metric=test_accuracy → the gallery and the leaderboard."""

    @property
    def max_body(self) -> int:
        return self.classroom.limits.snapshot_bytes + MAX_BODY

    def post(self):
        student = self.student()
        body = self.body(("snapshot", "metrics"), required=("snapshot",))
        self.reply({"submission": self.classroom.submit(student, body["snapshot"], body.get("metrics"))}, 201)

    def get(self):
        session = self.instructor()
        self.reply(self.classroom.submissions(session, self.get_query_argument("metric", None)))


class SubmissionHandler(_ClassroomMixin, RequestHandler):
    """GET /api/classroom/submissions/<id> (instructor): the snapshot file's text."""

    def get(self, submission_id: str):
        session = self.instructor()
        submission = self.classroom.submission(session, int(submission_id))
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", submission["student"]["name"] or "student").strip("-") or "student"
        self.set_header("Content-Disposition", f'inline; filename="{name}-{submission["id"]}.json"')
        self.finish(submission["snapshot"])


# --- the instructor ---------------------------------------------------------------------------

class SessionHandler(_ClassroomMixin, RequestHandler):
    """GET /api/classroom/session: session, state, roster, submissions count; DELETE ends it now."""

    def get(self):
        self.reply(self.classroom.overview(self.instructor()))

    def delete(self):
        state = self.classroom.end(self.instructor())
        self.reply({"ok": True, "state": state, "seq": state["seq"]})


class PushHandler(_ClassroomMixin, RequestHandler):
    """POST /api/classroom/push {lesson, step} or {preset}."""

    def post(self):
        session = self.instructor()
        body = self.body(("lesson", "step", "preset"))
        if "preset" in body:
            body_fields(body, ("preset",))
            state = self.classroom.push_preset(session, body["preset"])
        else:
            body_fields(body, ("lesson", "step", "preset"), required=("lesson", "step"))
            state = self.classroom.push_step(session, body["lesson"], body["step"])
        self.reply({"state": state, "seq": state["seq"]})


class LocksHandler(_ClassroomMixin, RequestHandler):
    """POST /api/classroom/locks {locked: [control names]}."""

    def post(self):
        session = self.instructor()
        state = self.classroom.set_locks(session, self.body(("locked",), required=("locked",))["locked"])
        self.reply({"state": state, "seq": state["seq"]})


class PauseHandler(_ClassroomMixin, RequestHandler):
    """POST /api/classroom/pause {paused: true|false}."""

    def post(self):
        session = self.instructor()
        state = self.classroom.pause(session, self.body(("paused",), required=("paused",))["paused"])
        self.reply({"state": state, "seq": state["seq"]})


class SpotlightHandler(_ClassroomMixin, RequestHandler):
    """POST /api/classroom/spotlight {student: id | null}."""

    def post(self):
        session = self.instructor()
        state = self.classroom.spotlight(session, self.body(("student",), required=("student",))["student"])
        self.reply({"state": state, "seq": state["seq"]})


class ExportHandler(_ClassroomMixin, RequestHandler):
    """GET /api/classroom/export.csv?metric=…: one row per student."""

    def get(self):
        session = self.instructor()
        text = self.classroom.export_csv(session, self.get_query_argument("metric", None))
        self.set_header("Content-Type", "text/csv; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Disposition", f'attachment; filename="classroom-{session.code}.csv"')
        self.finish(text)


# --- the live feed ------------------------------------------------------------------------------

class LiveSocket(_ClassroomMixin, WebSocketHandler):
    """GET /api/classroom/live?token=… (websocket), for either kind of token.

    A student gets ``state`` messages and sends ``summary`` messages; an
    instructor gets ``roster``, ``submission`` and ``state`` messages. The
    classroom's delivery thread hands each message to this socket's IOLoop;
    while one is being written, later ``roster`` messages merge (by student)
    and later ``state`` messages replace earlier ones, so a slow client gets
    fresh news instead of a growing backlog."""

    who = None
    unsubscribe = None

    @property
    def max_message_size(self) -> int:
        return MAX_BODY

    @property
    def ping_interval(self) -> float:
        return PING_SECONDS

    async def get(self, *args, **kwargs):
        self.require_websocket("/api/classroom/live?token=…")
        self.who = self.classroom.identify(self.given_token())  # refused before the upgrade: 401 as JSON
        await super().get(*args, **kwargs)

    def check_origin(self, origin: str) -> bool:
        return True  # the token, not a cookie, lets a client in

    def open(self):
        self.loop = IOLoop.current()
        self.queue: deque[Message] = deque()
        self.sending = False
        if isinstance(self.who, Student):
            self.unsubscribe = self.classroom.subscribe_student(self.who, self._from_classroom)
        else:
            self.unsubscribe = self.classroom.subscribe_instructor(self.who, self._from_classroom)

    def on_message(self, data):
        try:
            message = json.loads(data) if isinstance(data, str) else None
            if not isinstance(message, dict):
                raise ClassroomError("a message must be a JSON object as text, like {\"type\": \"summary\", …}")
            if not isinstance(self.who, Student):
                raise ClassroomError("the instructor's feed takes no messages; instructor actions go over HTTP "
                                     "(see the README's Classroom API)")
            if message.get("type") != "summary":
                raise ClassroomError(f"type: a student sends only \"summary\" messages, got "
                                     f"{message.get('type')!r}", field="type")
            body_fields(message, ("type", "summary", "thumbnail", "sent"), required=("summary",))
            self.classroom.record_summary(self.who, message["summary"], message.get("thumbnail"), message.get("sent"))
        except ValueError as error:  # ClassroomError, or JSON that does not parse
            text = error.message if isinstance(error, ClassroomError) else f"the message is not JSON ({error})"
            reply = {"type": "error", "error": text}
            if isinstance(error, ClassroomError) and error.field:
                reply["field"] = error.field
            self._queue(Message(reply))

    def on_close(self):
        if self.unsubscribe is not None:
            self.unsubscribe()

    def _from_classroom(self, message: Message) -> None:
        """The classroom's delivery thread: on to this socket's IOLoop."""
        self.loop.add_callback(self._queue, message)

    def _queue(self, message: Message) -> None:
        if self.ws_connection is None:
            return
        last = self.queue[-1] if self.queue else None
        if last is not None and last["type"] == message["type"] == "roster":
            students = {student["id"]: student for student in last["students"]}
            students.update((student["id"], student) for student in message["students"])
            self.queue[-1] = Message(type="roster", students=list(students.values()), time=message["time"])
        elif last is not None and last["type"] == message["type"] == "state":
            self.queue[-1] = message
        else:
            self.queue.append(message)
        if not self.sending:
            self.sending = True
            self.loop.spawn_callback(self._drain)

    async def _drain(self) -> None:
        try:
            while self.queue:
                await self.write_message(self.queue.popleft().text())
        except WebSocketClosedError:
            self.queue.clear()
        finally:
            self.sending = False


def classroom_routes(classroom: Classroom) -> list:
    """The classroom API's (pattern, handler, kwargs) tuples, for Panel's ``extra_patterns``."""
    options = {"classroom": classroom}
    return [(rf"/api/classroom/{pattern}", handler, options) for pattern, handler in (
        ("sessions", SessionsHandler),
        ("join", JoinHandler),
        ("me", MeHandler),
        ("progress", ProgressHandler),
        ("summary", SummaryHandler),
        ("submissions", SubmissionsHandler),
        (r"submissions/([0-9]{1,12})", SubmissionHandler),
        ("session", SessionHandler),
        ("push", PushHandler),
        ("locks", LocksHandler),
        ("pause", PauseHandler),
        ("spotlight", SpotlightHandler),
        (r"export\.csv", ExportHandler),
        ("live", LiveSocket),
    )]
