"""The classroom API over real HTTP and websockets against the web server
(`serve_in_thread`, as `playground serve` runs it): the contract's shapes,
the validation messages, and the live feeds."""
import asyncio
import csv
import io
import time

import pytest

from .conftest import LESSON, Socket, run


def test_create_join_and_me(served):
    created = served.session("Period 3")
    assert set(created) == {"code", "instructor_token", "session"}
    assert created["session"]["code"] == created["code"] and created["session"]["lesson"] == LESSON
    assert created["session"]["state"]["seq"] == 1 and created["session"]["ended"] is False
    joined = served.join(created["code"].lower(), " Ada ")
    assert set(joined) == {"student_token", "student", "session"}
    assert joined["student"]["name"] == "Ada" and isinstance(joined["student"]["id"], int)
    assert {"title", "lesson", "code", "state"} <= set(joined["session"])
    assert joined["session"]["title"] == "Period 3" and joined["session"]["state"]["paused"] is False
    status, me, headers = served.call("GET", "/api/classroom/me", token=joined["student_token"])
    assert status == 200 and me["student"]["name"] == "Ada" and me["session"]["code"] == created["code"]
    assert headers["Content-Type"].startswith("application/json") and headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path, body, status, field, words", [
    ("/api/classroom/sessions", {"lesson": LESSON}, 400, "title", "title: is missing"),
    ("/api/classroom/sessions", {"title": "", "lesson": LESSON}, 400, "title", "1 to 100 characters"),
    ("/api/classroom/sessions", {"title": "T", "lesson": "nope"}, 400, "lesson", "unknown lesson 'nope'"),
    ("/api/classroom/sessions", {"title": "T", "teacher": "me"}, 400, "teacher", "not a field of this request"),
    ("/api/classroom/sessions", ["T"], 400, None, "must be a JSON object"),
    ("/api/classroom/join", {"code": "ABC", "name": "Ada"}, 400, "code", "6 characters"),
    ("/api/classroom/join", {"code": "ABCDEF"}, 400, "name", "name: is missing"),
])
def test_bad_requests_get_an_error_naming_the_field(served, path, body, status, field, words):
    got, answer, headers = served.call("POST", path, body)
    assert got == status and words in answer["error"], answer
    assert answer.get("field") == field
    assert headers["Content-Type"].startswith("application/json")


def test_a_body_that_is_not_json(served):
    status, answer, _ = served.call("POST", "/api/classroom/sessions", raw_body=b"{title: T}")
    assert status == 400 and answer["error"].startswith("the request body is not JSON")


def test_join_errors(served):
    created = served.session()
    served.join(created["code"], "Ada")
    status, answer, _ = served.call("POST", "/api/classroom/join", {"code": created["code"], "name": "ADA"})
    assert status == 409 and answer["field"] == "name" and "already called" in answer["error"]
    status, answer, _ = served.call("POST", "/api/classroom/join", {"code": created["code"], "name": "x" * 41})
    assert status == 400 and answer["field"] == "name"


def test_a_wrong_method_is_405_with_allow(served):
    status, answer, headers = served.call("DELETE", "/api/classroom/join")
    assert status == 405 and headers["Allow"] == "POST" and "use POST" in answer["error"]


def test_students_send_progress_summaries_and_submissions(served, snapshot_text):
    created = served.session()
    token = served.join(created["code"], "Ada")["student_token"]
    status, answer, _ = served.call("POST", "/api/classroom/progress",
                                    {"lesson": LESSON, "step": 1, "done": [0], "completed": False}, token)
    assert status == 200 and answer["progress"]["done"] == [0]
    status, answer, _ = served.call("POST", "/api/classroom/progress", {"lesson": LESSON, "step": 77}, token)
    assert status == 400 and answer["field"] == "step"
    status, answer, _ = served.call("POST", "/api/classroom/summary",
                                    {"summary": {"step": 10, "test_loss": 0.3}, "thumbnail": [0.1, 0.2, 0.3, 0.4]}, token)
    assert status == 200 and answer == {"ok": True}
    status, answer, _ = served.call("POST", "/api/classroom/summary", {"summary": {"loss": 1}}, token)
    assert status == 400 and answer["field"] == "summary.loss" and "not a summary field" in answer["error"]
    status, answer, _ = served.call("POST", "/api/classroom/submissions",
                                    {"snapshot": snapshot_text, "metrics": {"test_accuracy": 0.75}}, token)
    assert status == 201 and answer["submission"]["metrics"] == {"test_accuracy": 0.75}
    assert answer["submission"]["student"]["name"] == "Ada"
    status, answer, _ = served.call("POST", "/api/classroom/submissions", {"snapshot": "nonsense"}, token)
    assert status == 400 and answer["field"].startswith("snapshot")
    me = served.call("GET", "/api/classroom/me", token=token)[1]["student"]
    assert me["progress"]["step"] == 1 and me["summary"]["test_loss"] == 0.3 and me["submissions"] == 1


def test_a_snapshot_over_the_limit_is_413(served):
    created = served.session()
    token = served.join(created["code"], "Ada")["student_token"]
    status, answer, _ = served.call("POST", "/api/classroom/submissions", {"snapshot": "x" * (2 * 1024 * 1024 + 1)},
                                    token)
    assert status == 413 and answer["field"] == "snapshot" and "at most 2,097,152" in answer["error"]
    status, answer, _ = served.call("POST", "/api/classroom/progress", raw_body=b" " * 300_000, token=token)
    assert status == 413


def test_the_instructor_steers_and_reads(served, snapshot_text):
    created = served.session()
    token = created["instructor_token"]
    ada = served.join(created["code"], "Ada")
    bob = served.join(created["code"], "Bob")
    served.call("POST", "/api/classroom/submissions", {"snapshot": snapshot_text, "metrics": {"test_loss": 0.4}},
                ada["student_token"])
    served.call("POST", "/api/classroom/submissions", {"snapshot": snapshot_text, "metrics": {"test_loss": 0.2}},
                bob["student_token"])

    status, overview, _ = served.call("GET", "/api/classroom/session", token=token)
    assert status == 200 and [s["name"] for s in overview["students"]] == ["Ada", "Bob"]
    assert overview["submissions"] == 2 and overview["state"]["seq"] == 1
    assert {"id", "name", "online", "progress", "summary", "sparkline", "thumbnail"} <= set(overview["students"][0])

    for body in ({"lesson": LESSON, "step": 2}, {"preset": {"spec": {"task": {"dataset": "xor"}}, "hidden": ["noise"]}}):
        status, answer, _ = served.call("POST", "/api/classroom/push", body, token)
        assert status == 200 and answer["state"]["push"]["seq"] == answer["seq"]
    status, answer, _ = served.call("POST", "/api/classroom/push", {"preset": {"locked": ["speed"]}}, token)
    assert status == 400 and answer["field"] == "preset.locked.0" and "unknown control 'speed'" in answer["error"]
    status, answer, _ = served.call("POST", "/api/classroom/push", {"lesson": LESSON}, token)
    assert status == 400 and answer["field"] == "step"
    status, answer, _ = served.call("POST", "/api/classroom/locks", {"locked": ["run", "learning_rate"]}, token)
    assert status == 200 and answer["state"]["locked"] == ["run", "learning_rate"]
    status, answer, _ = served.call("POST", "/api/classroom/pause", {"paused": True}, token)
    assert status == 200 and answer["state"]["paused"] is True
    status, answer, _ = served.call("POST", "/api/classroom/spotlight", {"student": bob["student"]["id"]}, token)
    assert status == 200 and answer["state"]["spotlight"] == bob["student"]["id"] and answer["seq"] == 6

    status, gallery, _ = served.call("GET", "/api/classroom/submissions?metric=test_loss", token=token)
    assert status == 200 and gallery["order"] == "lowest first"
    assert [s["student"]["name"] for s in gallery["submissions"]] == ["Bob", "Ada"]
    status, answer, _ = served.call("GET", "/api/classroom/submissions?metric=beauty", token=token)
    assert status == 400 and answer["field"] == "metric"
    status, text, headers = served.call("GET", f"/api/classroom/submissions/{gallery['submissions'][0]['id']}",
                                        token=token)
    assert status == 200 and text == __import__("json").loads(snapshot_text)  # the snapshot file itself
    status, answer, _ = served.call("GET", "/api/classroom/submissions/999999", token=token)
    assert status == 404

    status, text, headers = served.call("GET", "/api/classroom/export.csv?metric=test_loss", token=token)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert f"classroom-{created['code']}.csv" in headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(row["name"], row["best_test_loss"]) for row in rows] == [("Ada", "0.4"), ("Bob", "0.2")]

    status, answer, _ = served.call("DELETE", "/api/classroom/session", token=token)
    assert status == 200 and answer["state"]["ended"] is True
    status, answer, _ = served.call("POST", "/api/classroom/join", {"code": created["code"], "name": "Cy"})
    assert status == 403 and "has ended" in answer["error"]
    assert served.call("GET", "/api/classroom/session", token=token)[0] == 200  # still readable


def test_live_feeds(served, snapshot_text):
    created = served.session()
    ada = served.join(created["code"], "Ada")
    bob = served.join(created["code"], "Bob")

    async def scenario():
        instructor = await Socket.open(served.ws_url(created["instructor_token"]))
        roster = await instructor.receive_until(lambda m: m["type"] == "roster")
        assert [s["name"] for s in roster["students"]] == ["Ada", "Bob"] and isinstance(roster["time"], float)
        student = await Socket.open(served.ws_url(ada["student_token"]))
        state = await student.receive()
        assert state["type"] == "state" and state["seq"] == 1 and state["spotlight"] is None
        await instructor.receive_until(lambda m: m["type"] == "roster" and m["students"][0]["online"])

        sent = time.time()
        await student.send({"type": "summary", "summary": {"step": 5, "test_loss": 0.5, "test_accuracy": 0.6},
                            "thumbnail": [[0.5, -0.5], [0.0, 1.0]], "sent": sent})  # rows, kept flat
        update = await instructor.receive_until(lambda m: m["type"] == "roster" and m["students"][0].get("summary"))
        entry = update["students"][0]
        assert [s["name"] for s in update["students"]] == ["Ada"]  # only who changed
        assert entry["summary"]["sent"] == sent and entry["summary"]["step"] == 5
        assert entry["sparkline"] == [0.5] and entry["thumbnail"] == [0.5, -0.5, 0.0, 1.0]
        assert entry["online"] is True

        await student.send({"type": "summary", "summary": {"test_loss": "high"}})
        error = await student.receive_until(lambda m: m["type"] == "error")
        assert error["field"] == "summary.test_loss"
        await student.send({"type": "progress"})
        assert (await student.receive_until(lambda m: m["type"] == "error"))["field"] == "type"

        status, _, _ = served.call("POST", "/api/classroom/submissions", {"snapshot": snapshot_text,
                                                                          "metrics": {"test_accuracy": 0.6}},
                                   bob["student_token"])
        assert status == 201
        submission = await instructor.receive_until(lambda m: m["type"] == "submission")
        assert submission["submission"]["student"]["name"] == "Bob"
        assert "snapshot" not in submission["submission"]

        served.call("POST", "/api/classroom/locks", {"locked": ["noise"]}, created["instructor_token"])
        state = await student.receive_until(lambda m: m["type"] == "state" and m["seq"] == 2)
        assert state["state"]["locked"] == ["noise"]
        served.call("POST", "/api/classroom/spotlight", {"student": bob["student"]["id"]}, created["instructor_token"])
        state = await student.receive_until(lambda m: m["type"] == "state" and m["seq"] == 3)
        assert state["spotlight"]["student"]["name"] == "Bob" and state["spotlight"]["snapshot"] == snapshot_text

        student.close()
        offline = await instructor.receive_until(lambda m: m["type"] == "roster" and m["students"]
                                                 and m["students"][0]["name"] == "Ada"
                                                 and not m["students"][0]["online"])
        assert offline["students"][0]["online"] is False
        instructor.close()

    run(scenario())


def test_the_websocket_refuses_missing_and_wrong_tokens_before_upgrading(served):
    from tornado.httpclient import HTTPClientError

    async def attempt(url):
        with pytest.raises(HTTPClientError) as caught:
            await Socket.open(url)
        return caught.value.code

    base = served.url.replace("http://", "ws://") + "/api/classroom/live"
    assert run(attempt(base)) == 401
    assert run(attempt(base + "?token=wrong")) == 401
    status, answer, _ = served.call("GET", "/api/classroom/live?token=wrong")
    assert status == 400 and "is a websocket" in answer["error"]


def test_expiry_over_http(served):
    created = served.session()
    token = served.join(created["code"], "Ada")["student_token"]
    try:
        served.clock.offset = 13 * 3600
        status, answer, _ = served.call("POST", "/api/classroom/join", {"code": created["code"], "name": "Bob"})
        assert status == 403 and "has ended" in answer["error"] and created["code"] in answer["error"]
        status, answer, _ = served.call("POST", "/api/classroom/summary", {"summary": {"step": 1}}, token)
        assert status == 403 and "has ended" in answer["error"]
        status, overview, _ = served.call("GET", "/api/classroom/session", token=created["instructor_token"])
        assert status == 200 and overview["session"]["ended"] is True
        assert served.call("GET", "/api/classroom/export.csv", token=created["instructor_token"])[0] == 200
        assert served.call("GET", "/api/classroom/me", token=token)[0] == 200
    finally:
        served.clock.offset = 0.0


def test_many_sockets_at_once(served):
    """Twenty students connect and send together; the instructor sees every one."""
    created = served.session()
    tokens = [served.join(created["code"], f"Student {n}")["student_token"] for n in range(20)]

    async def scenario():
        instructor = await Socket.open(served.ws_url(created["instructor_token"]))
        students = await asyncio.gather(*(Socket.open(served.ws_url(token)) for token in tokens))
        for step in range(3):
            await asyncio.gather(*(s.send({"type": "summary", "summary": {"step": step + 1}}) for s in students))
        seen = set()
        while len(seen) < 20:
            message = await instructor.receive_until(lambda m: m["type"] == "roster")
            seen |= {s["id"] for s in message["students"] if (s["summary"] or {}).get("step") == 3}
        for s in students:
            s.close()
        instructor.close()

    run(scenario())
