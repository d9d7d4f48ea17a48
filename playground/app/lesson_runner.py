"""The lesson runner: the list of lessons with the learner's progress, and
the open lesson — its step's text, the goal checked live from the engine's
summaries, hints on demand, the quiz, and step navigation.

A step's preset goes through PlaygroundState.set_by_lesson: the spec, the
controls the step locks or hides and the views it shows. The state refuses
locked edits whichever widget asks, so a lesson holds even against a
forged message. Progress lives in the browser (LessonProgress, localStorage)
and survives a reload.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import panel as pn
import param
from panel.custom import JSComponent

from playground.lessons import (LESSON_START, LESSONS_DIR, Lesson, LessonError, apply_preset, check_goal,
                                current_lessons)
from playground.spec import Spec, SpecError

from .network_view import NetworkView
from .state import PlaygroundState

ASSETS = Path(__file__).resolve().parent / "assets"
LEVEL_WORDS = {"beginner": "Beginner", "intermediate": "Intermediate", "advanced": "Advanced"}
PANEL_WIDTH = 290


class LessonProgress(JSComponent):
    """The learner's progress, kept in the browser's localStorage:
    ``{"current": {"lesson": id, "step": i, "spec": the learner's model} | None,
       "lessons": {id: {"done": [step, …], "reached": i, "completed": bool}}}``."""

    progress = param.Dict(default={})
    loaded = param.Boolean(False, doc="True once the browser has handed over what it kept.")
    problem = param.String("", doc="Why the progress could not be read or saved, in words.")
    storage_key = param.String("playground-lessons-v1")
    auto_reconnect = param.Boolean(False, doc="Reload the page by itself when the server was lost (in a class).")

    _esm = "assets/lesson_store.js"

    def _handle_msg(self, message) -> None:
        if isinstance(message, dict) and "ping" in message:
            self._send_msg({"pong": message["ping"]})


def _kept_model(raw) -> Spec | None:
    """The model kept with the progress, if it is still a valid spec (the
    browser's storage is the learner's to edit, and specs change between versions)."""
    if not isinstance(raw, dict):
        return None
    try:
        return Spec.from_dict(raw)
    except SpecError:
        return None


def _math(text: str) -> str:
    """Formulas in the delimiters the page's MathJax renders: inline $…$
    becomes $$…$$, and < and > inside a formula are written as TeX (the
    Markdown would take them for HTML)."""
    text = re.sub(r"(?<![$\\])\$(?!\$)(.+?)(?<![\\$])\$(?!\$)", r"$$\1$$", text)
    return re.sub(r"\$\$(.+?)\$\$", lambda m: "$$" + m.group(1).replace("<", r"\lt ").replace(">", r"\gt ") + "$$",
                  text, flags=re.S)


class LessonRunner(pn.viewable.Viewer):
    lesson_id = param.String("", doc="The open lesson; empty: the list is shown.")
    step_index = param.Integer(0)
    step_done = param.Boolean(False, doc="The open step's goal was met (or it has none).")
    hints_shown = param.Integer(0)

    def __init__(self, state: PlaygroundState, view: NetworkView, lessons_dir=LESSONS_DIR, start_lesson: str = "",
                 **params):
        super().__init__(**params)
        self.state, self.view = state, view
        self.store = LessonProgress()
        self.error = ""
        try:
            self.lessons = {lesson.id: lesson for lesson in current_lessons(lessons_dir)}
        except (LessonError, OSError) as error:
            self.lessons, self.error = {}, f"The lessons could not be loaded: {error}"
        self._start_lesson = start_lesson
        self._step_spec: Spec | None = None  # the spec as the open step began, for "reset this step"
        self.class_locked: set[str] = set()  # controls a class's instructor locks, on top of the step's
        self.on_progress = None  # called with (lesson id, its progress) whenever that changes (a class listens)
        self.above: list = []  # what the panel shows above the lessons (the class a learner is in)
        self.body = pn.Column(sizing_mode="stretch_width", margin=0)
        self.goal = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 5))
        self.notice = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width")
        self.store.param.watch(lambda event: self._on_loaded(), "loaded")
        self.store.param.watch(lambda event: self._show_problem(event.new), "problem")
        state.param.watch(lambda event: self._check_goal(), "summary")
        state.param.watch(lambda event: self._keep_model(), "spec")
        self._show_list()

    # --- progress ----------------------------------------------------------------------------

    def _progress(self, lesson_id: str) -> dict:
        return dict((self.store.progress.get("lessons") or {}).get(lesson_id) or {})

    def _save(self, lesson_id: str | None = None, **changes) -> None:
        progress = dict(self.store.progress)
        lessons = dict(progress.get("lessons") or {})
        if lesson_id is not None:
            lessons[lesson_id] = dict(self._progress(lesson_id), **changes)
        progress["lessons"] = lessons
        # The model as the learner has it now: a reload (or a page that lost
        # its server) brings back what they built, not only the step.
        progress["current"] = ({"lesson": self.lesson_id, "step": self.step_index, "spec": self.state.spec.to_dict()}
                               if self.lesson_id else None)
        self.store.progress = progress
        if lesson_id is not None and self.on_progress is not None:
            self.on_progress(lesson_id, dict(lessons[lesson_id], step=self.step_index))

    def _keep_model(self) -> None:
        if self.lesson_id and self.store.loaded:
            self._save()

    def _on_loaded(self) -> None:
        """Open the lesson the link names, else the one the learner was in,
        at their step and with the model they had built in it."""
        current = self.store.progress.get("current") or {}
        wanted = self._start_lesson or current.get("lesson")
        if wanted and wanted in self.lessons:
            step = current.get("step") if current.get("lesson") == wanted else None
            if isinstance(step, int):
                self.open(wanted, step, model=_kept_model(current.get("spec")))
            else:
                self.open(wanted)
        elif self._start_lesson:
            self._show_problem(f"There is no lesson {self._start_lesson!r}; pick one from the list.")
        else:
            self._show_list()

    def _show_problem(self, text: str) -> None:
        self.notice.object = text
        self.notice.visible = bool(text)

    # --- opening, moving, leaving --------------------------------------------------------------

    @property
    def lesson(self) -> Lesson | None:
        return self.lessons.get(self.lesson_id)

    def open(self, lesson_id: str, step: int | None = None, model: Spec | None = None) -> None:
        """Open a lesson at a step: by default where the learner got to;
        ``model``: the one the learner had built in that step (else the step's)."""
        lesson = self.lessons[lesson_id]
        if step is None:
            saved = self._progress(lesson_id)
            step = 0 if saved.get("completed") else saved.get("reached", 0)
        step = max(0, min(int(step), len(lesson.steps) - 1))
        self.lesson_id = lesson_id
        preset = lesson.spec_at(step, LESSON_START)
        # The learner's own model comes back after a reload with its run (the
        # page resumes it): no fresh start over it.
        self.begin_step(step, model or preset, give_weights=model is None, fresh=model is None)
        self._step_spec = preset  # "reset this step" goes back to the step's own model

    def begin_step(self, index: int, spec: Spec, give_weights: bool = True, fresh: bool = True) -> None:
        """Set the step up: its spec and locks, a fresh start when it asks
        (and ``fresh``). ``give_weights``: the engine takes the weights the
        spec carries (a learner going on to the next step keeps theirs unless
        it sets some)."""
        lesson = self.lesson
        step = lesson.steps[index]
        self.step_index, self.hints_shown = index, 0
        self.state.playing = False
        self.state.set_by_lesson(spec, self._locks(step.preset.locked), step.preset.hidden, step.preset.views,
                                 step.preset.same_start)
        self.state.train_in = "automatic"
        if step.preset.reset and fresh:
            self.view.reset()
        if give_weights:
            self.view.load_weights(spec)  # after the reset: the step's own weights win
        self._step_spec = spec
        self.step_done = not step.goal.conditions
        self.state.summary = {}  # the goal reads only what the engine reports from now on
        reached = max(self._progress(lesson.id).get("reached", 0), index)
        self._save(lesson.id, reached=reached)
        self._show_step()

    def next_step(self) -> None:
        lesson, index = self.lesson, self.step_index + 1
        if index >= len(lesson.steps):
            return
        preset = lesson.steps[index].preset
        try:  # the learner's model, with the next step's preset merged in
            spec = apply_preset(self.state.spec.with_weights(None), preset)
        except SpecError:  # the learner's model does not take it: the lesson's own
            spec = lesson.spec_at(index, LESSON_START)
        self.begin_step(index, spec, give_weights="weights" in preset.spec_patch or preset.reset)

    def previous_step(self) -> None:
        if self.step_index > 0:
            self.begin_step(self.step_index - 1, self.lesson.spec_at(self.step_index - 1, LESSON_START))

    def reset_step(self) -> None:
        """The step as it began: its model, fresh weights, step 0."""
        spec = self._step_spec or self.lesson.spec_at(self.step_index, LESSON_START)
        self.state.playing = False
        self.state.set_by_lesson(spec, self.state.locked, self.state.hidden, self.state.views, self.state.same_start)
        self.view.reset()  # which also clears the summary of the run before
        self.view.load_weights(spec)
        self.step_done = not self.lesson.steps[self.step_index].goal.conditions
        self._show_step()

    def leave(self) -> None:
        """Back to the list; every control is free again, the model stays."""
        self.lesson_id = ""
        self.state.set_by_lesson(self.state.spec, self._locks(()))
        self._save()
        self._show_list()

    def _locks(self, step_locked) -> list[str]:
        return sorted(set(step_locked) | self.class_locked)

    def set_class_locks(self, names) -> None:
        """The class's locks changed: the step's own, and these."""
        self.class_locked = set(names)
        lesson = self.lesson
        own = lesson.steps[self.step_index].preset.locked if lesson else ()
        self.state.locked = self._locks(own)
        if "run" in self.state.locked:
            self.state.playing = False

    # --- the goal ------------------------------------------------------------------------------

    def _check_goal(self) -> None:
        lesson = self.lesson
        if lesson is None:
            return
        step = lesson.steps[self.step_index]
        if not step.goal.conditions:
            return
        status = check_goal(step.goal, self.state.summary, self.state.spec)
        self.goal.object = _goal_html(status, self.step_done)
        if status.met and not self.step_done:
            self.step_done = True
            self.state.playing = False
            saved = self._progress(lesson.id)
            done = sorted(set(saved.get("done", [])) | {self.step_index})
            completed = all(i in done for i, s in enumerate(lesson.steps) if s.goal.conditions)
            self._save(lesson.id, done=done, completed=completed or saved.get("completed", False))
            self._show_step()

    # --- what the panel shows --------------------------------------------------------------------

    def _show_list(self) -> None:
        rows = [pn.pane.Markdown("### Lessons\nStep-by-step lessons with goals the page checks as you go. "
                                 "Your progress stays in this browser.", margin=(0, 5))]
        if self.error:
            rows.append(pn.pane.Alert(self.error, alert_type="danger", sizing_mode="stretch_width"))
        for lesson in self.lessons.values():
            saved = self._progress(lesson.id)
            goals = [i for i, step in enumerate(lesson.steps) if step.goal.conditions]
            done = len(set(saved.get("done", [])) & set(goals))
            if saved.get("completed"):
                state = "✓ done"
            elif saved:
                state = f"{done} of {len(goals)} goals"
            else:
                state = "new"
            button = pn.widgets.Button(label=f"{lesson.title}", color="light", sizing_mode="stretch_width",
                                       margin=(2, 5), description=f"{LEVEL_WORDS[lesson.level]}, about {lesson.minutes}"
                                                                  f" minutes, {len(lesson.steps)} steps — {state}")
            button.on_click(lambda event, lesson_id=lesson.id: self.open(lesson_id))
            rows.append(pn.Row(button, pn.pane.HTML(
                f'<span class="pg-lesson-state" data-lesson="{lesson.id}" '
                f'data-completed="{str(bool(saved.get("completed"))).lower()}" style="font-size:12px;'
                f'white-space:nowrap">{html.escape(state)}</span>', width=78, margin=(8, 0)),
                sizing_mode="stretch_width", margin=0))
        self.body.objects = [self.notice, *rows]

    def _show_step(self) -> None:
        lesson = self.lesson
        step = lesson.steps[self.step_index]
        last = self.step_index == len(lesson.steps) - 1
        header = pn.pane.HTML(
            f'<div data-role="lesson-header" data-lesson="{lesson.id}" data-step="{self.step_index}">'
            f'<div style="font-size:12px;color:#495057">{html.escape(lesson.title)} · step {self.step_index + 1} '
            f'of {len(lesson.steps)}</div><h3 style="margin:2px 0 0 0">{html.escape(step.title)}</h3></div>',
            sizing_mode="stretch_width", margin=(0, 5))
        intro = ([pn.pane.Markdown(_math(lesson.intro), sizing_mode="stretch_width", margin=(0, 5))]
                 if self.step_index == 0 and lesson.intro else [])
        text = pn.pane.Markdown(_math(step.text), sizing_mode="stretch_width", margin=(0, 5),
                                styles={"overflow-x": "auto"})  # a wide formula scrolls, it is not cut
        parts = [self.notice, header, *intro, text]
        if step.goal.conditions:
            self.goal.object = _goal_html(check_goal(step.goal, self.state.summary, self.state.spec), self.step_done)
            parts.append(self.goal)
        if self.step_done and step.goal.conditions:
            message = ("**Lesson complete!** Every goal of this lesson is met." if last
                       else "**Goal reached!** Go on to the next step when you are ready.")
            parts.append(pn.pane.Alert(message, alert_type="success", sizing_mode="stretch_width"))
        parts.extend(self._hints(step))
        parts.extend(self._quiz(step))
        parts.append(self._navigation(last))
        self.body.objects = parts

    def _hints(self, step) -> list:
        if not step.hints:
            return []
        shown = [pn.pane.Markdown(f"**Hint {i + 1}.** {_math(hint)}", sizing_mode="stretch_width", margin=(0, 5))
                 for i, hint in enumerate(step.hints[:self.hints_shown])]
        if self.hints_shown < len(step.hints):
            button = pn.widgets.Button(label=f"Show a hint ({self.hints_shown + 1} of {len(step.hints)})",
                                       color="light", margin=(2, 5))
            button.on_click(lambda event: self._reveal_hint())
            shown.append(button)
        return shown

    def _reveal_hint(self) -> None:
        self.hints_shown += 1
        self._show_step()

    def _quiz(self, step) -> list:
        parts = []
        for number, question in enumerate(step.quiz, 1):
            choices = pn.widgets.RadioBoxGroup(options=list(question.choices), inline=False,
                                               sizing_mode="stretch_width", margin=(0, 10))
            choices.value = None  # nothing chosen yet (the constructor would choose the first)
            feedback = pn.pane.Alert("", visible=False, sizing_mode="stretch_width")
            check = pn.widgets.Button(label="Check my answer", color="light", margin=(2, 5))

            def answer(event, question=question, choices=choices, feedback=feedback):
                if choices.value is None:
                    feedback.alert_type, feedback.object = "warning", "Choose an answer first."
                elif choices.value == question.correct_choice:
                    feedback.alert_type, feedback.object = "success", f"**Right.** {_math(question.explanation)}"
                else:
                    feedback.alert_type = "danger"
                    feedback.object = f"**Not quite.** {_math(question.explanation)}"
                feedback.visible = True

            check.on_click(answer)
            parts.append(pn.Column(
                pn.pane.Markdown(f"**Question{'' if len(step.quiz) == 1 else f' {number}'}.** "
                                 f"{_math(question.question)}", sizing_mode="stretch_width", margin=(0, 5)),
                choices, check, feedback, sizing_mode="stretch_width", margin=0,
                styles={"border-top": "1px solid #dee2e6"}))
        return parts

    def _navigation(self, last: bool):
        back = pn.widgets.Button(label="← Back", color="light", width=70, disabled=self.step_index == 0)
        back.on_click(lambda event: self.previous_step())
        if last:
            forward = pn.widgets.Button(label="Finish lesson", color="primary", width=120,
                                        disabled=not self.step_done)
            forward.on_click(lambda event: self.leave())
        else:
            forward = pn.widgets.Button(label="Next step →", color="primary", width=120,
                                        disabled=not self.step_done)
            forward.on_click(lambda event: self.next_step())
        reset = pn.widgets.Button(label="Reset this step", color="light", width=120)
        reset.on_click(lambda event: self.reset_step())
        leave = pn.widgets.Button(label="All lessons", color="light", width=100)
        leave.on_click(lambda event: self.leave())
        return pn.Column(pn.Row(back, forward, margin=0), pn.Row(reset, leave, margin=0), margin=(6, 0))

    def __panel__(self):
        # The panel folds away to a narrow strip when the learner wants the room.
        fold = pn.widgets.Button(label="Hide lessons ›", color="light", width=120, margin=(0, 5),
                                 description="Fold the lessons away to give the network more room")
        unfold = pn.widgets.Button(label="‹", color="light", width=34, margin=(0, 2), visible=False,
                                   description="Show the lessons")
        column = pn.Column(self.store, fold, unfold, *self.above, self.body, width=PANEL_WIDTH, margin=(0, 5),
                           css_classes=["pg-lessons"], styles={"border-left": "1px solid #dee2e6"})

        def show(shown: bool) -> None:
            column.width = PANEL_WIDTH if shown else 40
            fold.visible, unfold.visible, self.body.visible = shown, not shown, shown
            for part in self.above:
                part.visible = shown

        fold.on_click(lambda event: show(False))
        unfold.on_click(lambda event: show(True))
        return column


def _goal_html(status, done: bool) -> str:
    """The goal's conditions with a mark each; a met condition is marked ✓,
    not only coloured, so that it reads without colour."""
    items = "".join(
        f'<li data-met="{str(part.met).lower()}" style="list-style:none;margin:2px 0">'
        f'{"✓" if part.met else "○"} {html.escape(part.text)}</li>' for part in status.parts)
    head = "Goal reached" if done else "Goal"
    return (f'<div data-role="lesson-goal" data-met="{str(done).lower()}" style="border:1px solid #adb5bd;'
            f'border-radius:6px;padding:4px 8px;font-size:13px"><strong>{head}</strong>'
            f'<ul style="margin:2px 0;padding:0">{items}</ul></div>')
