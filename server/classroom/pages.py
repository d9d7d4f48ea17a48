"""The classroom's own pages: starting a session, the instructor's
dashboard and the projector view. They are plain pages that talk to the
classroom API (api.py) like any other client; the instructor's token
travels in the address's fragment (#token=…), which browsers never send to
the server, so it stays out of logs and Referer headers."""
from __future__ import annotations

import json
from pathlib import Path

import tornado.web

from playground.app.palette import as_dict as palette
from playground.lessons import CONTROLS, LessonError

ASSETS = Path(__file__).resolve().parent / "assets"
PAGES = {"": "start.html", "/": "start.html", "/teach": "teach.html", "/projector": "projector.html"}
#: The metrics a leaderboard may rank by (see validate.metric_name).
RANKINGS = {"test_accuracy": "test accuracy", "test_loss": "test loss", "train_loss": "training loss",
            "step": "training steps", "parameters": "parameters"}


def page_config(lessons) -> dict:
    """What the pages need to know: the palette, the lessons and their steps, the controls."""
    return {"palette": palette(),
            "lessons": [{"id": lesson.id, "title": lesson.title, "steps": [step.title for step in lesson.steps]}
                        for lesson in lessons],
            "controls": CONTROLS, "rankings": RANKINGS}


class PageHandler(tornado.web.RequestHandler):
    def initialize(self, name: str):
        self.name = name

    def get(self):
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("Referrer-Policy", "no-referrer")
        self.write((ASSETS / self.name).read_bytes())


class ConfigHandler(tornado.web.RequestHandler):
    def initialize(self, lessons):
        self.lessons = lessons

    def get(self):
        try:
            lessons = self.lessons()
        except (LessonError, OSError) as error:
            self.set_status(500)
            self.write({"error": f"the lessons could not be loaded: {error}"})
            return
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps(page_config(lessons)))


def page_routes(lessons) -> list:
    """``lessons()`` returns the lessons a session may use."""
    routes = [(rf"/classroom{path}", PageHandler, {"name": name}) for path, name in PAGES.items()]
    routes.append((r"/classroom/config\.json", ConfigHandler, {"lessons": lessons}))
    routes.append((r"/classroom/assets/(.*)", tornado.web.StaticFileHandler, {"path": str(ASSETS)}))
    return routes
