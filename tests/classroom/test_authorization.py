"""Who may do what: only the instructor's token controls its session, a
student reads only their own record (and what the instructor spotlights),
a token of another session never reads this one, and wrong join codes are
rate-limited. Real HTTP and websockets against the web server."""
import pytest

from .conftest import LESSON, Socket, run

#: Every instructor endpoint with a body it would accept.
INSTRUCTOR_ACTIONS = [
    ("GET", "/api/classroom/session", None),
    ("DELETE", "/api/classroom/session", None),
    ("POST", "/api/classroom/push", {"lesson": LESSON, "step": 1}),
    ("POST", "/api/classroom/push", {"preset": {"locked": ["run"]}}),
    ("POST", "/api/classroom/locks", {"locked": ["run"]}),
    ("POST", "/api/classroom/pause", {"paused": True}),
    ("POST", "/api/classroom/spotlight", {"student": None}),
    ("GET", "/api/classroom/submissions?metric=test_accuracy", None),
    ("GET", "/api/classroom/submissions/{submission}", None),
    ("GET", "/api/classroom/export.csv", None),
]
STUDENT_ACTIONS = [
    ("GET", "/api/classroom/me", None),
    ("POST", "/api/classroom/progress", {"lesson": LESSON, "step": 0}),
    ("POST", "/api/classroom/summary", {"summary": {"step": 1}}),
    ("POST", "/api/classroom/submissions", {"snapshot": "{}"}),
]


@pytest.fixture(scope="module")
def two_classes(served, snapshot_text):
    """Two sessions, each with two students and a submission."""
    classes = []
    for title in ("Class A", "Class B"):
        created = served.session(title)
        students = [served.join(created["code"], f"{title} student {n}") for n in (1, 2)]
        status, answer, _ = served.call("POST", "/api/classroom/submissions",
                                        {"snapshot": snapshot_text, "metrics": {"test_accuracy": 0.5}},
                                        students[0]["student_token"])
        assert status == 201
        classes.append({**created, "students": students, "submission": answer["submission"]["id"]})
    return classes


def _path(path, klass):
    return path.replace("{submission}", str(klass["submission"]))


@pytest.mark.parametrize("method, path, body", INSTRUCTOR_ACTIONS)
def test_every_instructor_action_is_refused_to_a_student_and_to_no_token(served, two_classes, method, path, body):
    klass = two_classes[0]
    path = _path(path, klass)
    status, answer, _ = served.call(method, path, body, klass["students"][0]["student_token"])
    assert status == 403 and "only the instructor's token" in answer["error"], answer
    status, answer, headers = served.call(method, path, body)
    assert status == 401 and "needs a classroom token" in answer["error"]
    assert headers["WWW-Authenticate"].startswith("Bearer")
    status, _, _ = served.call(method, path, body, "a-guessed-token")
    assert status == 401
    status, _, _ = served.call(method, path, body, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert status == 401
    overview = served.call("GET", "/api/classroom/session", token=klass["instructor_token"])[1]
    assert overview["state"]["seq"] == 1 and not overview["session"]["ended"]  # nothing happened


@pytest.mark.parametrize("method, path, body", STUDENT_ACTIONS)
def test_student_endpoints_need_a_students_token(served, two_classes, method, path, body):
    klass = two_classes[0]
    status, answer, _ = served.call(method, path, body, klass["instructor_token"])
    assert status == 403 and "student's token is needed" in answer["error"]
    assert served.call(method, path, body)[0] == 401


def test_the_token_is_checked_before_the_body(served, two_classes):
    student = two_classes[0]["students"][0]["student_token"]
    status, _, _ = served.call("POST", "/api/classroom/push", {"nonsense": True}, student)
    assert status == 403


def test_another_sessions_instructor_token_never_reaches_this_one(served, two_classes):
    a, b = two_classes
    b_token = b["instructor_token"]
    overview = served.call("GET", "/api/classroom/session", token=b_token)[1]
    assert overview["session"]["code"] == b["code"] and "Class A" not in str(overview)
    status, answer, _ = served.call("GET", f"/api/classroom/submissions/{a['submission']}", token=b_token)
    assert status == 404
    status, answer, _ = served.call("POST", "/api/classroom/spotlight", {"student": a["students"][0]["student"]["id"]},
                                    b_token)
    assert status == 404 and answer["field"] == "student"
    gallery = served.call("GET", "/api/classroom/submissions", token=b_token)[1]
    assert [s["id"] for s in gallery["submissions"]] == [b["submission"]]
    assert "Class A" not in served.call("GET", "/api/classroom/export.csv", token=b_token)[1]


def test_a_student_reads_nothing_of_other_students(served, two_classes):
    a = two_classes[0]
    first, second = a["students"]
    served.call("POST", "/api/classroom/summary", {"summary": {"step": 3, "test_loss": 0.123}},
                first["student_token"])
    me = served.call("GET", "/api/classroom/me", token=second["student_token"])[1]
    assert me["student"]["name"] == "Class A student 2"
    assert "Class A student 1" not in str(me) and "0.123" not in str(me)
    status, _, _ = served.call("GET", f"/api/classroom/submissions/{a['submission']}",
                               token=second["student_token"])
    assert status == 403

    async def live():  # a student's feed carries the state, never the roster
        socket = await Socket.open(served.ws_url(second["student_token"]))
        message = await socket.receive()
        served.call("POST", "/api/classroom/summary", {"summary": {"step": 4, "test_loss": 0.321}},
                    first["student_token"])
        served.call("POST", "/api/classroom/locks", {"locked": ["noise"]}, a["instructor_token"])
        later = await socket.receive_until(lambda m: m["seq"] >= 2)
        socket.close()
        return [message, later]

    for message in run(live()):
        assert message["type"] == "state" and message["spotlight"] is None
        assert "Class A student 1" not in str(message) and "0.321" not in str(message)


def test_wrong_join_codes_are_rate_limited(served, two_classes):
    """Ten wrong codes a minute from one address, then 429 with the wait,
    even for the right code. (Last in this module: it uses up 127.0.0.1.)"""
    code = two_classes[1]["code"]
    wrong = "23456" + ("7" if code[-1] != "7" else "8")
    if wrong == code:
        wrong = "22222" + code[-1]
    for attempt in range(10):
        status, _, _ = served.call("POST", "/api/classroom/join", {"code": wrong, "name": f"Guess {attempt}"})
        assert status == 404
    status, answer, headers = served.call("POST", "/api/classroom/join", {"code": code, "name": "Late"})
    assert status == 429 and answer["field"] == "code" and 1 <= answer["retry_after"] <= 60
    assert headers["Retry-After"] == str(answer["retry_after"])
    assert f"try again in {answer['retry_after']} s" in answer["error"]
