"""What the server's JSON APIs (the training API, the classroom API) share:
replies, errors as JSON with a sentence, and request logs without tokens."""
from __future__ import annotations

import json

from tornado.web import HTTPError, RequestHandler


class JsonApiMixin:
    """For RequestHandler and WebSocketHandler subclasses. A subclass names
    its ``realm`` (for 401 answers), ``failure_words`` ("the classroom") and
    ``no_token_words``; it makes its own errors in ``refused`` and answers
    them in ``refusal``."""

    realm = "playground"
    failure_words = "the server"
    no_token_words = "this request needs a token: send the header 'Authorization: Bearer <token>'"
    #: json.dumps's separators for replies (the classroom's roster replies are compact).
    separators = (", ", ": ")

    def refused(self, status: int, words: str) -> Exception:
        """This API's error for a refusal (raised by the caller)."""
        raise NotImplementedError

    def given_token(self) -> str:
        """The token of 'Authorization: Bearer <token>', else of ?token= (a
        browser's websocket cannot send headers); 401 without one."""
        header = self.request.headers.get("Authorization")
        if header is not None:
            scheme, _, value = header.strip().partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise self.refused(401, "the Authorization header must read 'Bearer <token>'")
            return value.strip()
        token = self.get_query_argument("token", None)
        if not token:
            raise self.refused(401, self.no_token_words)
        return token

    def require_websocket(self, address: str) -> None:
        """Tornado answers a plain GET on a websocket in plain text: say it in JSON, with what to do."""
        if self.request.headers.get("Upgrade", "").lower() != "websocket":
            raise self.refused(400, f"{self.request.path} is a websocket: connect to ws://…{address} (or wss://) "
                                    f"with a websocket client")

    def reply(self, body: dict, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body, separators=self.separators))

    def refusal(self, error) -> dict | None:
        """The JSON body for an exception this API raises on purpose (its
        status and headers set here); None for any other."""
        return None

    def write_error(self, status_code: int, **kwargs):
        error = kwargs.get("exc_info", (None, None))[1]
        body = self.refusal(error)
        if body is None:
            body = self._general_error(error, status_code)
        if self.get_status() == 401:
            self.set_header("WWW-Authenticate", f'Bearer realm="{self.realm}"')
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))

    def _general_error(self, error, status_code: int) -> dict:
        if status_code == 405:
            allowed = [m for m in ("GET", "POST", "DELETE") if implements(type(self), m.lower())]
            self.set_header("Allow", ", ".join(allowed))
            return {"error": f"{self.request.method} is not allowed on {self.request.path}; "
                             f"use {' or '.join(allowed) or 'nothing'}"}
        if isinstance(error, HTTPError) and error.log_message:
            return {"error": error.log_message % error.args if error.args else error.log_message}
        return {"error": f"{self.failure_words} failed on this request ({self._reason})"}

    def _request_summary(self) -> str:
        # Tornado logs every request's URI; a websocket's carries ?token=, so log the path only.
        return f"{self.request.method} {self.request.path} ({self.request.remote_ip})"


def implements(handler: type, method: str) -> bool:
    """Whether a handler class answers an HTTP method itself."""
    return getattr(handler, method) is not getattr(RequestHandler, method)
