"""``Classroom`` without HTTP: joining, what is kept in memory and what is
written when, the batched instructor feed, the session state and its seq,
spotlight, leaderboard, CSV, expiry, rate limits, and a restart."""
import csv
import io
import threading
import time

import pytest

from server.classroom import ClassroomError, ClassroomLimits
from server.classroom.validate import CODE_ALPHABET

from .conftest import LESSON, TEST_LIMITS


def refused(call, *args, status: int, field=None, match: str = ""):
    with pytest.raises(ClassroomError) as caught:
        call(*args)
    assert caught.value.status == status, caught.value.message
    if field is not None:
        assert caught.value.field == field, caught.value.message
    assert match in caught.value.message
    return caught.value


class Collector:
    """A subscriber callback that notes each message, when, and on which thread."""

    def __init__(self):
        self.messages, self.times, self.threads = [], [], set()
        self.event = threading.Condition()

    def __call__(self, message):
        with self.event:
            self.messages.append(message)
            self.times.append(time.monotonic())
            self.threads.add(threading.current_thread().name)
            self.event.notify_all()

    def wait_for(self, predicate, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self.event:
            while True:
                found = [m for m in self.messages if predicate(m)]
                if found:
                    return found[-1]
                left = deadline - time.monotonic()
                assert left > 0, f"no such message among {[m['type'] for m in self.messages]}"
                self.event.wait(left)

    def of(self, kind):
        return [m for m in self.messages if m["type"] == kind]


def test_create_and_join(make_classroom):
    classroom = make_classroom()
    created = classroom.create_session("  Period 3 ", LESSON)
    assert len(created.code) == 6 and set(created.code) <= set(CODE_ALPHABET)
    assert len(created.instructor_token) >= 40
    assert classroom.session_info(created.session)["title"] == "Period 3"
    joined = classroom.join(f" {created.code[:3].lower()}-{created.code[3:]} ", "  Ada Lovelace ")
    assert joined.student.name == "Ada Lovelace" and joined.student.session_id == created.session.id
    assert classroom.resume(joined.student_token) == joined.student
    assert classroom.instructor(created.instructor_token) == created.session
    refused(classroom.join, created.code, "ADA LOVELACE", status=409, field="name", match="already called")
    refused(classroom.join, "ZZZZZZ", "Bob", status=404, field="code")
    refused(classroom.resume, created.instructor_token, status=403)
    refused(classroom.instructor, joined.student_token, status=403)
    refused(classroom.identify, "not-a-token", status=401)


@pytest.mark.parametrize("name, message", [
    ("", "1 to 40 characters"), ("   ", "1 to 40 characters"), ("x" * 41, "got 41"),
    ("Ada\nLovelace", "printable"), ("Ada\x00", "printable"), (42, "must be text"), (None, "must be text"),
])
def test_bad_names_are_refused_naming_the_field(make_classroom, name, message):
    classroom = make_classroom()
    code = classroom.create_session("T", None).code
    error = refused(classroom.join, code, name, status=400, field="name")
    assert message in error.message and error.message.startswith("name: ")


@pytest.mark.parametrize("title, lesson, hours, field", [
    ("", LESSON, None, "title"), ("T", "no-such-lesson", None, "lesson"), ("T", 3, None, "lesson"),
    ("T", None, 0, "hours"), ("T", None, 10_000, "hours"), ("T", None, float("nan"), "hours"),
])
def test_bad_sessions_are_refused_naming_the_field(make_classroom, title, lesson, hours, field):
    refused(make_classroom().create_session, title, lesson, hours, status=400, field=field)


def test_summaries_stay_in_memory_and_reach_the_database_within_the_save_interval(make_classroom):
    classroom = make_classroom(limits=ClassroomLimits(sessions_per_hour=100, save_seconds=0.4))
    created = classroom.create_session("T", None)
    student = classroom.join(created.code, "Ada").student
    writes = []
    original = classroom.store.update_latest
    classroom.store.update_latest = lambda rows: (writes.append((time.monotonic(), [r["id"] for r in rows])),
                                                  original(rows))
    started = time.monotonic()
    for step in range(1, 13):  # 1.2 s of summaries, ten a second
        classroom.record_summary(student, {"step": step, "test_loss": 1 / step}, [0.5, -0.5, 0.25, 1], time.time())
        time.sleep(0.1)
    assert classroom.roster(created.session)[0]["summary"]["step"] == 12  # in memory at once
    time.sleep(0.6)
    row = classroom.store.students_of(created.session.id)[0]
    assert row["latest"]["summary"]["step"] == 12 and row["latest"]["thumbnail"] == [0.5, -0.5, 0.25, 1]
    times = [at for at, ids in writes if student.id in ids]
    assert 1 <= len(times) <= (time.monotonic() - started) / 0.4 + 1  # at most once per interval, not per summary


def test_close_writes_what_is_still_in_memory(make_classroom):
    classroom = make_classroom()  # saves every 2 s
    created = classroom.create_session("T", None)
    joined = classroom.join(created.code, "Ada")
    classroom.record_summary(joined.student, {"step": 7, "test_loss": 0.25})
    classroom.close()
    reopened = make_classroom()
    student = reopened.resume(joined.student_token)
    assert reopened.me(student)["student"]["summary"]["step"] == 7
    assert reopened.me(student)["student"]["sparkline"] == [0.25]


def test_the_sparkline_keeps_one_point_a_second_and_the_last_60(make_classroom, clock):
    classroom = make_classroom()
    created = classroom.create_session("T", None)
    student = classroom.join(created.code, "Ada").student
    for step in range(1, 6):  # five summaries within a second: one point, the newest loss
        classroom.record_summary(student, {"step": step, "test_loss": 1.0 / step})
        clock.offset += 0.1
    assert classroom.me(student)["student"]["sparkline"] == [0.2]
    for step in range(6, 100):
        clock.offset += 1.0
        classroom.record_summary(student, {"step": step, "test_loss": float(step)})
    line = classroom.me(student)["student"]["sparkline"]
    assert len(line) == 60 and line[-1] == 99.0 and line[0] == 40.0
    classroom.record_summary(student, {"step": 1, "test_loss": 0.7})  # the step went back: a new run
    assert classroom.me(student)["student"]["sparkline"] == [0.7]


@pytest.mark.parametrize("summary, thumbnail, field", [
    ({"test_loss": "low"}, None, "summary.test_loss"),
    ({"test_loss": float("nan")}, None, "summary.test_loss"),
    ({"test_accuracy": 1.5}, None, "summary.test_accuracy"),
    ({"step": -1}, None, "summary.step"),
    ({"weights": [1, 2]}, None, "summary.weights"),
    ({"gradient_norms": [0.1, float("inf")]}, None, "summary.gradient_norms.1"),
    ("loss 0.1", None, "summary"),
    ({}, [[0.0] * 33] * 33, "thumbnail"),
    ({}, [0.0] * 33 * 33, "thumbnail"),
    ({}, [0.0] * 15, "thumbnail"),
    ({}, [[0.0], [0.1]], "thumbnail.0"),
    ({}, [0.0, 1.5, 0.0, 0.0], "thumbnail.1"),
    ({}, [[0.0, 0.1], [0.2, 1.5]], "thumbnail.1.1"),
    ({}, [[0.0, 0.1], [0.2]], "thumbnail.1"),
    ({}, [0.0, None, 0.0, 0.0], "thumbnail.1"),
    ({}, "0.5", "thumbnail"),
])
def test_bad_summaries_are_refused_naming_the_field(make_classroom, summary, thumbnail, field):
    classroom = make_classroom()
    student = classroom.join(classroom.create_session("T", None).code, "Ada").student
    refused(classroom.record_summary, student, summary, thumbnail, status=400, field=field)


def test_progress_is_validated_against_the_lessons_and_written_at_once(make_classroom):
    classroom = make_classroom()
    created = classroom.create_session("T", LESSON)
    student = classroom.join(created.code, "Ada").student
    classroom.record_progress(student, {"lesson": LESSON, "step": 2, "done": [1, 0, 1], "completed": False})
    assert classroom.store.students_of(created.session.id)[0]["progress"] == {
        "lesson": LESSON, "step": 2, "done": [0, 1], "completed": False}
    refused(classroom.record_progress, student, {"lesson": LESSON, "step": 99}, status=400, field="step")
    refused(classroom.record_progress, student, {"lesson": "nope", "step": 0}, status=400, field="lesson")
    refused(classroom.record_progress, student, {"lesson": LESSON, "step": 0, "done": ["a"]}, status=400,
            field="done.0")
    refused(classroom.record_progress, student, {"lesson": LESSON, "step": 0, "extra": 1}, status=400, field="extra")
    refused(classroom.record_progress, student, {"lesson": LESSON}, status=400, field="step")


def test_the_instructor_feed_is_batched_and_holds_only_changed_students(make_classroom):
    classroom = make_classroom()
    created = classroom.create_session("T", None)
    ada, bob = (classroom.join(created.code, name).student for name in ("Ada", "Bob"))
    feed = Collector()
    classroom.subscribe_instructor(created.session, feed)
    first = feed.wait_for(lambda m: m["type"] == "roster")
    assert [s["name"] for s in first["students"]] == ["Ada", "Bob"]  # the whole roster first
    classroom.record_summary(bob, {"step": 1})
    feed.wait_for(lambda m: m["type"] == "roster" and m["students"] and m["students"][0]["id"] == bob.id)
    started = time.monotonic()
    while time.monotonic() - started < 1.2:  # Ada sends 50 a second
        classroom.record_summary(ada, {"step": 1, "test_loss": 0.5}, None, time.time())
        time.sleep(0.02)
    time.sleep(0.4)
    rosters = feed.of("roster")[2:]
    assert 2 <= len(rosters) <= 7  # about one per 250 ms, not 60
    made = [m["time"] for m in rosters]  # when each was put together (delivery may lag on a busy machine)
    assert all(later - earlier >= 0.24 for earlier, later in zip(made, made[1:]))
    assert all([s["id"] for s in m["students"]] == [ada.id] for m in rosters)  # Bob did not change
    entry = rosters[-1]["students"][0]
    assert entry["summary"]["test_loss"] == 0.5 and entry["summary"]["sent"] > 0 and entry["online"] is False
    assert feed.threads == {"classroom-delivery"}  # callbacks come from the delivery thread


def test_online_while_subscribed(make_classroom):
    classroom = make_classroom()
    created = classroom.create_session("T", None)
    ada = classroom.join(created.code, "Ada").student
    feed = Collector()
    classroom.subscribe_instructor(created.session, feed)
    unsubscribe = classroom.subscribe_student(ada, Collector())
    feed.wait_for(lambda m: m["type"] == "roster" and any(s["online"] for s in m["students"]))
    unsubscribe()
    feed.wait_for(lambda m: m["type"] == "roster" and m["students"] and not m["students"][0]["online"])


def test_state_changes_reach_students_with_a_rising_seq(make_classroom):
    classroom = make_classroom()
    created = classroom.create_session("T", LESSON)
    student = classroom.join(created.code, "Ada").student
    inbox = Collector()
    classroom.subscribe_student(student, inbox)
    assert inbox.wait_for(lambda m: m["type"] == "state")["seq"] == 1
    classroom.push_step(created.session, LESSON, 1)
    classroom.push_preset(created.session, {"spec": {"training": {"learning_rate": 0.3}}, "locked": ["learning_rate"],
                                            "views": ["network"], "reset": True})
    classroom.set_locks(created.session, ["noise", "run"])
    state = classroom.pause(created.session, True)
    assert state["seq"] == 5
    last = inbox.wait_for(lambda m: m["seq"] == 5)
    seqs = [m["seq"] for m in inbox.of("state")]
    assert seqs == sorted(seqs) and seqs[-1] == 5
    assert last["state"]["locked"] == ["run", "noise"] and last["state"]["paused"] is True
    assert last["state"]["push"] == {"kind": "preset", "seq": 3, "preset": {
        "spec": {"training": {"learning_rate": 0.3}}, "locked": ["learning_rate"], "views": ["network"],
        "reset": True}}
    step_push = next(m for m in inbox.of("state") if m["seq"] == 2)["state"]["push"]
    assert step_push == {"kind": "step", "lesson": LESSON, "step": 1, "seq": 2}


@pytest.mark.parametrize("action, arguments, field", [
    ("push_step", ("nope", 0), "lesson"),
    ("push_step", (LESSON, 40), "step"),
    ("push_step", (LESSON, "1"), "step"),
    ("push_preset", ({"locked": ["learning-rate"]},), "preset.locked.0"),
    ("push_preset", ({"spec": {"layers": [{"type": "dense", "units": -3}]}},), "preset.spec.layers.0.units"),
    ("push_preset", ({"colour": "red"},), "preset.colour"),
    ("push_preset", ({"views": []},), "preset.views"),
    ("push_preset", ({},), "preset"),
    ("set_locks", (["run", "lr"],), "locked.1"),
    ("set_locks", ("run",), "locked"),
    ("pause", ("yes",), "paused"),
    ("spotlight", ("3",), "student"),
])
def test_bad_instructor_actions_are_refused_naming_the_field(make_classroom, action, arguments, field):
    classroom = make_classroom()
    created = classroom.create_session("T", LESSON)
    error = refused(getattr(classroom, action), created.session, *arguments, status=400, field=field)
    assert error.message.startswith(field + ":")
    assert classroom.session_info(created.session)["seq"] == 1  # nothing changed


def test_a_spotlight_shows_one_student_to_the_class(make_classroom, snapshot_text):
    classroom = make_classroom()
    created = classroom.create_session("T", None)
    ada, bob = (classroom.join(created.code, name).student for name in ("Ada", "Bob"))
    classroom.record_summary(ada, {"step": 3, "test_loss": 0.4}, [0.25])
    classroom.submit(ada, snapshot_text, {"test_accuracy": 0.9})
    inbox = Collector()
    classroom.subscribe_student(bob, inbox)
    refused(classroom.spotlight, created.session, 999, status=404, field="student")
    classroom.spotlight(created.session, ada.id)
    spot = inbox.wait_for(lambda m: m["spotlight"] is not None)["spotlight"]
    assert spot["student"] == {"id": ada.id, "name": "Ada"} and spot["summary"]["test_loss"] == 0.4
    assert spot["thumbnail"] == [0.25] and spot["snapshot"] == snapshot_text
    assert spot["submission"]["metrics"] == {"test_accuracy": 0.9}
    classroom.record_summary(ada, {"step": 4, "test_loss": 0.3})  # the class sees it live (once a second)
    assert inbox.wait_for(lambda m: m["spotlight"] and m["spotlight"]["summary"]["step"] == 4)
    classroom.spotlight(created.session, None)
    assert inbox.wait_for(lambda m: m["seq"] == 3)["spotlight"] is None
    assert classroom.me(bob)["spotlight"] is None


def test_a_student_reads_only_their_own_record(make_classroom):
    classroom = make_classroom()
    created = classroom.create_session("T", None)
    ada, bob = (classroom.join(created.code, name).student for name in ("Ada", "Bob"))
    classroom.record_summary(ada, {"step": 3, "test_loss": 0.4})
    mine = classroom.me(bob)
    assert mine["student"]["name"] == "Bob" and mine["student"]["summary"] is None
    assert "Ada" not in str(mine) and "students" not in mine


def test_submissions_rank_by_the_chosen_metric(make_classroom, snapshot_text):
    classroom = make_classroom()
    created = classroom.create_session("T", None)
    ada, bob, cy = (classroom.join(created.code, name).student for name in ("Ada", "Bob", "Cy"))
    classroom.submit(ada, snapshot_text, {"test_accuracy": 0.8, "test_loss": 0.30})
    classroom.submit(bob, snapshot_text, {"test_accuracy": 0.9, "test_loss": 0.35})
    classroom.submit(ada, snapshot_text, {"test_accuracy": 0.95, "test_loss": 0.20})
    classroom.submit(cy, snapshot_text, {})
    by_accuracy = classroom.submissions(created.session, "test_accuracy")
    assert by_accuracy["order"] == "highest first"
    assert [(s["student"]["name"], s["metrics"].get("test_accuracy")) for s in by_accuracy["submissions"]] == [
        ("Ada", 0.95), ("Bob", 0.9), ("Ada", 0.8), ("Cy", None)]
    assert [s["student"]["name"] for s in by_accuracy["leaderboard"]] == ["Ada", "Bob", "Cy"]
    by_loss = classroom.submissions(created.session, "test_loss")
    assert by_loss["order"] == "lowest first"
    assert [s["metrics"].get("test_loss") for s in by_loss["submissions"]] == [0.2, 0.3, 0.35, None]
    refused(classroom.submissions, created.session, "beauty", status=400, field="metric")
    first = by_accuracy["submissions"][0]["id"]
    assert classroom.submission(created.session, first)["snapshot"] == snapshot_text
    other = classroom.create_session("Other", None)
    refused(classroom.submission, other.session, first, status=404)


def test_snapshots_are_checked_and_limited(make_classroom, snapshot_text):
    classroom = make_classroom(limits=ClassroomLimits(snapshot_bytes=len(snapshot_text) - 1))
    student = classroom.join(classroom.create_session("T", None).code, "Ada").student
    refused(classroom.submit, student, snapshot_text, {}, status=413, field="snapshot")
    refused(classroom.submit, student, "{\"not\": \"a snapshot\"}", {}, status=400, field="snapshot")
    refused(classroom.submit, student, "[]", {"beauty": 1}, status=400, field="metrics.beauty")
    refused(classroom.submit, student, "[]", {"test_loss": float("inf")}, status=400, field="metrics.test_loss")


def test_the_csv_export_has_one_row_per_student(make_classroom, snapshot_text):
    classroom = make_classroom()
    created = classroom.create_session("T", LESSON)
    ada, bob = (classroom.join(created.code, name).student for name in ("Ada", "=HYPERLINK(1)"))
    classroom.record_progress(ada, {"lesson": LESSON, "step": 2, "done": [0, 1]})
    classroom.record_summary(ada, {"test_loss": 0.125, "test_accuracy": 0.875})
    classroom.submit(ada, snapshot_text, {"test_accuracy": 0.9})
    classroom.submit(ada, snapshot_text, {"test_accuracy": 0.7})
    rows = list(csv.DictReader(io.StringIO(classroom.export_csv(created.session))))
    assert [row["name"] for row in rows] == ["Ada", "'=HYPERLINK(1)"]  # a name is never a formula
    assert rows[0]["lesson"] == LESSON and rows[0]["step"] == "2" and rows[0]["goals_done"] == "2"
    assert rows[0]["test_loss"] == "0.125" and rows[0]["test_accuracy"] == "0.875"
    assert rows[0]["submissions"] == "2" and rows[0]["best_test_accuracy"] == "0.9"
    assert rows[1]["submissions"] == "0" and rows[1]["best_test_accuracy"] == ""
    assert rows[0]["joined"].endswith("Z")


def test_an_expired_session_refuses_joins_and_student_writes_but_the_instructor_still_reads(
        make_classroom, clock, snapshot_text):
    classroom = make_classroom(hours=1)
    created = classroom.create_session("T", LESSON)
    student = classroom.join(created.code, "Ada").student
    inbox = Collector()
    classroom.subscribe_student(student, inbox)
    classroom.record_progress(student, {"lesson": LESSON, "step": 1})
    clock.offset += 3601
    for call, arguments in ((classroom.join, (created.code, "Bob")),
                            (classroom.record_summary, (student, {"step": 1})),
                            (classroom.record_progress, (student, {"lesson": LESSON, "step": 1})),
                            (classroom.submit, (student, snapshot_text, {}))):
        refused(call, *arguments, status=403, match="has ended")
    refused(classroom.pause, created.session, True, status=403, match="has ended")
    assert inbox.wait_for(lambda m: m["state"]["ended"])  # the class is told
    overview = classroom.overview(created.session)
    assert overview["session"]["ended"] and overview["students"][0]["progress"]["step"] == 1
    assert "Ada" in classroom.export_csv(created.session)
    assert classroom.me(student)["session"]["state"]["ended"]  # the student may still read


def test_ending_a_session_now(make_classroom):
    classroom = make_classroom()
    created = classroom.create_session("T", None)
    student = classroom.join(created.code, "Ada").student
    inbox = Collector()
    classroom.subscribe_student(student, inbox)
    state = classroom.end(created.session)
    assert state["ended"] and classroom.end(created.session)["seq"] == state["seq"]  # twice: no change
    assert inbox.wait_for(lambda m: m["state"]["ended"])["seq"] == state["seq"]
    refused(classroom.join, created.code, "Bob", status=403, match="has ended")
    refused(classroom.record_summary, student, {"step": 1}, status=403)


def test_wrong_join_codes_are_rate_limited_per_address(make_classroom):
    classroom = make_classroom()
    code = classroom.create_session("T", None).code
    wrong = "".join(c for c in CODE_ALPHABET[:6]) if code != CODE_ALPHABET[:6] else CODE_ALPHABET[1:7]
    for attempt in range(9):
        refused(classroom.join, wrong, f"Guess {attempt}", "10.0.0.1", status=404)
    refused(classroom.join, "0O1IL!", "Malformed", "10.0.0.1", status=400)  # a malformed code counts too
    error = refused(classroom.join, code, "Right code", "10.0.0.1", status=429, field="code")
    assert 1 <= error.retry_after <= 60 and f"{error.retry_after} s" in error.message
    assert classroom.join(code, "From elsewhere", "10.0.0.2").student.name == "From elsewhere"
    assert classroom.join(code, "Ada", "10.0.0.3")  # right codes never count


def test_session_creation_is_rate_limited_per_address(make_classroom):
    classroom = make_classroom(limits=ClassroomLimits(sessions_per_hour=2))
    classroom.create_session("One", None, address="10.0.0.1")
    classroom.create_session("Two", None, address="10.0.0.1")
    assert refused(classroom.create_session, "Three", None, None, "10.0.0.1", status=429).retry_after > 0
    classroom.create_session("Elsewhere", None, address="10.0.0.2")


def test_a_restart_keeps_everything_and_the_tokens(make_classroom, snapshot_text):
    classroom = make_classroom()
    created = classroom.create_session("T", LESSON)
    ada, bob = (classroom.join(created.code, name) for name in ("Ada", "Bob"))
    classroom.record_progress(ada.student, {"lesson": LESSON, "step": 1, "done": [0]})
    classroom.submit(bob.student, snapshot_text, {"test_accuracy": 0.5})
    classroom.record_summary(bob.student, {"step": 9, "test_loss": 0.5})
    classroom.set_locks(created.session, ["run"])
    classroom.close()

    again = make_classroom()
    assert again.instructor(created.instructor_token) == created.session
    assert again.resume(ada.student_token) == ada.student
    overview = again.overview(created.session)
    assert [s["name"] for s in overview["students"]] == ["Ada", "Bob"] and overview["submissions"] == 1
    assert overview["students"][0]["progress"]["done"] == [0]
    assert overview["students"][1]["summary"]["step"] == 9
    assert overview["state"]["locked"] == ["run"] and overview["seq"] == 2
    assert again.pause(created.session, True)["seq"] == 3  # seq goes on rising
    refused(again.join, created.code, "ada", status=409)
    assert again.submissions(created.session)["submissions"][0]["student"]["name"] == "Bob"


def test_a_failing_callback_does_not_stop_the_others(make_classroom):
    classroom = make_classroom()
    created = classroom.create_session("T", None)
    student = classroom.join(created.code, "Ada").student

    def broken(message):
        raise RuntimeError("a broken page")

    classroom.subscribe_student(student, broken)
    inbox = Collector()
    classroom.subscribe_student(student, inbox)
    classroom.pause(created.session, True)
    assert inbox.wait_for(lambda m: m["seq"] == 2)


def test_limits_default_as_documented():
    assert ClassroomLimits().join_failures_per_minute == 10 and ClassroomLimits().snapshot_bytes == 2 * 1024 * 1024
    assert TEST_LIMITS.join_failures_per_minute == 10


def test_an_expired_session_nobody_watches_leaves_memory_and_comes_back(make_classroom, clock):
    classroom = make_classroom(hours=1, limits=ClassroomLimits(forget_seconds=60))
    created = classroom.create_session("T", None)
    joined = classroom.join(created.code, "Ada")
    classroom.record_progress(joined.student, {"lesson": None, "step": 0})
    clock.offset += 3600 + 61
    deadline = time.monotonic() + 5
    while created.session.id in classroom._sessions:
        assert time.monotonic() < deadline, "the session stayed in memory"
        time.sleep(0.05)
    assert classroom.resume(joined.student_token) == joined.student  # from the database again
    assert classroom.me(joined.student)["student"]["progress"]["step"] == 0
    assert classroom.overview(created.session)["students"][0]["name"] == "Ada"
