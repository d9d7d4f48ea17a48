"""The page's line to a training job on the server.

The view talks to a server job as it talks to its browser worker: the same
messages (see assets/worker.js). This class carries them: the view's
messages go to the job; the job's messages — frames as binary — come back
over the page's own Panel websocket. The job's thread may not touch the
Bokeh document, so its messages are handed to the document's event loop.

``trainer`` is anything with ``where`` and ``open(emit) -> job`` (a job has
``send(message)`` and ``close(reason)``): the server's own JobRunner, or a
client of a remote training server. The page never imports torch.
"""
from __future__ import annotations

from functools import partial

import panel as pn

from playground.routing import JobRefused


class ServerTraining:
    def __init__(self, trainer, deliver):
        """``deliver(message: dict)`` sends a message to the view (on the
        document's event loop)."""
        self.trainer = trainer
        self.deliver = deliver
        self.job = None
        self.document = pn.state.curdoc
        if self.document is not None and pn.state.curdoc.session_context is not None:
            pn.state.on_session_destroyed(lambda context: self.close("the page was closed"))

    @property
    def where(self) -> str:
        return self.trainer.where if self.trainer is not None else ""

    def open(self) -> None:
        """Start a job for this page (ending the one it had)."""
        self.close("a new job replaced it")
        if self.trainer is None:
            self.deliver({"type": "error", "stage": "server",
                          "message": "this playground has no server trainer"})
            return
        try:
            self.job = self.trainer.open(self._from_job)
        except JobRefused as error:
            self.deliver({"type": "error", "stage": "server", "message": str(error)})
        except Exception as error:  # a remote trainer out of reach, say
            self.deliver({"type": "error", "stage": "server",
                          "message": f"the training server could not start a job ({error})"})

    def send(self, message: dict) -> None:
        if self.job is None:
            self.deliver({"type": "failed", "request": message.get("type"),
                          "message": "there is no server job for this page; choose where to train again"})
            return
        self.job.send(message)

    def close(self, reason: str = "closed") -> None:
        job, self.job = self.job, None
        if job is not None:
            job.close(reason)

    def _from_job(self, message: dict, buffer: bytes | None) -> None:
        """Called from the job's thread."""
        if message.get("type") == "ended" and self.job is not None and message.get("job") != self.job.id:
            return  # a replaced job saying goodbye
        if buffer is not None:
            message = dict(message, buffer=buffer)
        if self.document is None:
            self.deliver(message)
        else:
            self.document.add_next_tick_callback(partial(self.deliver, message))
