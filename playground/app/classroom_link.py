"""The student's side of a class, in the playground page: join with a code
and a name, follow what the instructor pushes (a lesson step, locks, a
pause), send the run's summaries and lesson progress, submit the model, see
the spotlight.

The page talks to the server's ``Classroom`` in-process (the page is a
server-side session of the same process), so nothing here imports the
server: ``classroom`` is any object with the methods used below. Its
messages come from its own delivery thread and are handed to this page's
document. The student's token is kept in the browser with the lesson
progress, so a reload, a dropped network or a restarted server finds the
class again (lesson_store.js reloads the page once the server answers).
"""
from __future__ import annotations

import html
import time
from functools import partial

import panel as pn

from playground.lessons import LessonError, apply_patch
from playground.spec import SpecError

from . import palette
from .lesson_runner import PANEL_WIDTH, LessonRunner
from .network_view import NetworkView
from .state import PlaygroundState

SUMMARY_KEYS = ("step", "epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "gradient_norms",
                "diverged", "trains_on")
#: Summaries to the class at most this often (the engine reports about five a second).
SUMMARY_SECONDS = 0.2


def _refusal(error: Exception) -> str:
    return getattr(error, "message", None) or str(error)


class ClassroomLink:
    def __init__(self, classroom, state: PlaygroundState, view: NetworkView, runner: LessonRunner, address=None):
        self.classroom, self.state, self.view, self.runner = classroom, state, view, runner
        self.address = address
        self.student = None
        self.info: dict = {}
        self.unsubscribe = None
        self.applied_push = 0
        self.sent_at = 0.0
        self.document = pn.state.curdoc
        self.code = pn.widgets.TextInput(label="Class code", placeholder="e.g. K7QX2M", width=130, max_length=12)
        self.name = pn.widgets.TextInput(label="Your name", placeholder="as the class sees it", width=130,
                                         max_length=40)
        self.join_button = pn.widgets.Button(label="Join the class", color="primary", width=130)
        self.join_button.on_click(lambda event: self.join(self.code.value, self.name.value))
        self.feedback = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.status = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 5))
        self.submit_button = pn.widgets.Button(label="Submit my model", color="primary", width=140)
        self.submit_button.on_click(lambda event: self.view.request_submission())
        self.leave_button = pn.widgets.Button(label="Leave the class", color="light", width=120)
        self.leave_button.on_click(lambda event: self.leave())
        self.spotlight = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 5), visible=False)
        self.join_box = pn.Column(pn.pane.Markdown("**In a class?** Join with the code your teacher shows.",
                                                   margin=(0, 5)),
                                  pn.Row(self.code, self.name, margin=0), self.join_button, margin=0)
        self.class_box = pn.Column(self.status, pn.Row(self.submit_button, self.leave_button, margin=0),
                                   self.spotlight, visible=False, margin=0)
        view.on_submit = self.submit
        runner.on_progress = self.send_progress
        state.param.watch(lambda event: self.send_summary(event.new), "summary")
        runner.store.param.watch(lambda event: self._resume(), "loaded")
        if self.document is not None and self.document.session_context is not None:
            pn.state.on_session_destroyed(lambda context: self._disconnect())

    # --- joining and leaving ----------------------------------------------------------------

    def join(self, code: str, name: str) -> None:
        try:
            joined = self.classroom.join((code or "").strip().upper(), name, address=self.address)
        except ValueError as error:  # the classroom's refusals are ValueErrors with a message in words
            self._say(_refusal(error))
            return
        self._keep({"token": joined.student_token, "push": 0})
        self._connect(joined.student)

    def _resume(self) -> None:
        """A reload: the token the browser kept finds the class again."""
        saved = self.runner.store.progress.get("classroom") or {}
        if not saved.get("token"):
            return
        try:
            student = self.classroom.resume(saved["token"])
        except ValueError as error:
            self._keep(None)
            self._say(f"Your class could not be found again: {_refusal(error)}")
            return
        self.applied_push = int(saved.get("push") or 0)
        self._connect(student)

    def _connect(self, student) -> None:
        self.student = student
        self.feedback.visible = False
        self.view.want_thumbnail = True
        self.runner.store.auto_reconnect = True
        self.info = self.classroom.me(student)["session"]
        self.unsubscribe = self.classroom.subscribe_student(student, self._from_class)
        # The class as it stands, at once (the feed's first message comes a
        # tick later): its pushed step or preset, locks and pause, and its
        # lesson open from the first second.
        self._apply({"type": "state", "state": self.info.get("state") or {}})
        self._open_class_lesson()
        self._show()

    def _open_class_lesson(self) -> None:
        """The class's lesson, where nothing was pushed yet; the instructor's
        card names it at once."""
        lesson = self.info.get("lesson")
        if not lesson or lesson not in self.runner.lessons:
            return
        if self.runner.lesson_id == lesson:
            self.send_progress(lesson, dict(self.runner._progress(lesson), step=self.runner.step_index))
        elif not (self.info.get("state") or {}).get("push"):  # a pushed step or preset stands instead
            self.runner.open(lesson)  # which reports the progress to the class

    def leave(self) -> None:
        self._disconnect()
        self.student = None
        self._keep(None)
        self.view.want_thumbnail = False
        self.runner.store.auto_reconnect = False
        self.runner.set_class_locks(())
        self._show()

    def _disconnect(self) -> None:
        unsubscribe, self.unsubscribe = self.unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()

    def _keep(self, saved: dict | None) -> None:
        progress = dict(self.runner.store.progress)
        progress["classroom"] = saved
        self.runner.store.progress = progress

    # --- what the class sends -----------------------------------------------------------------

    def _from_class(self, message) -> None:
        """Called on the classroom's delivery thread: over to this page's document."""
        if self.document is None:
            self._apply(message)
        else:
            self.document.add_next_tick_callback(partial(self._apply, message))

    def _apply(self, message) -> None:
        if self.student is None or message.get("type") != "state":
            return
        state = message.get("state") or {}
        self.info = dict(self.info, state=state)
        push = state.get("push")
        if push and push.get("seq", 0) > self.applied_push:
            self.applied_push = push["seq"]
            self._keep(dict(self.runner.store.progress.get("classroom") or {}, push=self.applied_push))
            self._follow(push)
        locked = list(state.get("locked") or []) + (["run"] if state.get("paused") else [])
        self.runner.set_class_locks(locked)
        self._show(message.get("spotlight"))

    def _follow(self, push: dict) -> None:
        try:
            if push.get("kind") == "step":
                self.runner.open(push["lesson"], push["step"])
            elif push.get("kind") == "preset":
                preset = push.get("preset") or {}
                spec = apply_patch(self.state.spec, preset.get("spec") or {})
                self.state.playing = False
                self.state.set_by_lesson(spec, sorted(set(preset.get("locked") or []) | self.runner.class_locked),
                                         preset.get("hidden") or [], preset.get("views") or [])
                if preset.get("reset"):
                    self.view.reset()
                self.view.load_weights(spec)
        except (KeyError, LessonError, SpecError) as error:
            self._say(f"What your teacher sent could not be applied: {error}")

    # --- what the page sends ------------------------------------------------------------------

    def send_summary(self, summary: dict) -> None:
        now = time.monotonic()
        if self.student is None or not summary or now - self.sent_at < SUMMARY_SECONDS:
            return
        self.sent_at = now
        try:
            self.classroom.record_summary(self.student, {key: summary[key] for key in SUMMARY_KEYS if key in summary},
                                          summary.get("thumbnail"), sent=time.time())
        except ValueError:
            pass  # an ended class takes no more summaries; the status line says it has ended

    def send_progress(self, lesson_id: str, progress: dict) -> None:
        if self.student is None:
            return
        try:
            self.classroom.record_progress(self.student, {
                "lesson": lesson_id, "step": progress.get("step", 0), "done": list(progress.get("done", [])),
                "completed": bool(progress.get("completed"))})
        except ValueError as error:
            self._say(f"Your progress could not be sent to the class: {_refusal(error)}")

    def submit(self, text: str) -> None:
        if self.student is None:
            return
        if not text:
            self._say("The engine has no model to submit yet; wait until it has started.")
            return
        summary = self.state.summary
        metrics = {key: summary[key] for key in ("test_accuracy", "test_loss", "train_loss", "step")
                   if isinstance(summary.get(key), (int, float)) and not isinstance(summary.get(key), bool)}
        try:
            self.classroom.submit(self.student, text, metrics)
        except ValueError as error:
            self._say(f"Your model could not be submitted: {_refusal(error)}")
            return
        self.feedback.alert_type, self.feedback.object, self.feedback.visible = (
            "success", "Your model is with the class.", True)

    # --- what the panel shows -----------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.feedback.alert_type, self.feedback.object, self.feedback.visible = "danger", text, True

    def _show(self, spotlight: dict | None = None) -> None:
        joined = self.student is not None
        self.join_box.visible, self.class_box.visible = not joined, joined
        if not joined:
            self.spotlight.visible = False
            return
        state = self.info.get("state") or {}
        notes = []
        if state.get("paused"):
            notes.append("Your teacher has paused training.")
        if state.get("ended"):
            notes.append("This class has ended.")
        self.status.object = (
            f'<div data-role="class-status" data-code="{html.escape(self.info.get("code", ""))}" '
            f'style="font-size:13px"><strong>Class:</strong> {html.escape(self.info.get("title", ""))} · '
            f'you are <strong>{html.escape(self.student.name)}</strong>'
            f'{"<br>" + html.escape(" ".join(notes)) if notes else ""}</div>')
        self.spotlight.visible = spotlight is not None
        if spotlight is not None:
            self.spotlight.object = _spotlight_html(spotlight)

    def __panel__(self):
        return pn.Column(self.join_box, self.class_box, self.feedback, width=PANEL_WIDTH - 10, margin=(0, 0, 6, 0),
                         styles={"border-bottom": "1px solid #dee2e6"})


def _spotlight_html(spotlight: dict) -> str:
    """The spotlighted model for the class: its decision surface and its figures."""
    summary = spotlight.get("summary") or {}
    loss, accuracy = summary.get("test_loss"), summary.get("test_accuracy")
    figures = " · ".join(part for part in (
        f"test loss {loss:.3f}" if isinstance(loss, (int, float)) else "",
        f"accuracy {accuracy * 100:.1f} %" if isinstance(accuracy, (int, float)) else "") if part)
    name = html.escape(spotlight.get("student", {}).get("name", ""))
    return (f'<div data-role="spotlight" data-student="{name}" style="font-size:13px"><strong>In the spotlight: '
            f'{name}</strong><br>{_thumbnail_html(spotlight.get("thumbnail"))}<br>{figures}<br>'
            f'<span style="font-size:11px;color:#495057">The model\'s output over the plane: orange negative, '
            f'blue positive.</span></div>')


def _thumbnail_html(values) -> str:
    """A surface thumbnail as coloured cells, in the playground's diverging palette."""
    if not values:
        return '<span style="color:#495057">(no picture for this kind of task)</span>'
    side = int(round(len(values) ** 0.5))
    cells = "".join(f'<span style="background:{palette.signed_colour(v)}"></span>' for v in values[:side * side])
    return (f'<span role="img" aria-label="the decision surface: orange negative, blue positive" '
            f'style="display:inline-grid;grid-template-columns:repeat({side},6px);grid-auto-rows:6px;'
            f'border:1px solid #adb5bd">{cells}</span>')
