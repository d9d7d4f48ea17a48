"""The classroom's tables on a real SQLite file: what is kept, what is unique,
that tokens are kept only as hashes, and the clean-up of old sessions."""
import sqlite3

import pytest

from server.classroom.store import DuplicateError, Store, database_url, hash_token


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'db' / 'classroom.sqlite3'}")
    yield store
    store.close()


def _session(store, code="ABCDEF", token="instructor-secret", expires=2000.0):
    return store.insert_session(code, "Period 3", "hidden-layers-xor", hash_token(token), 1000.0, expires,
                                {"seq": 1, "locked": []})


def test_a_file_path_becomes_an_absolute_sqlite_url_and_urls_pass_through(tmp_path):
    assert database_url(tmp_path / "x.sqlite3") == f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert database_url("postgresql+psycopg://u:p@host/db") == "postgresql+psycopg://u:p@host/db"


def test_an_in_memory_database_is_refused():
    with pytest.raises(ValueError, match="SQLite file"):
        Store("sqlite://")


def test_the_file_is_in_wal_mode_and_has_the_three_tables(store, tmp_path):
    _session(store)
    with sqlite3.connect(tmp_path / "db" / "classroom.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"sessions", "students", "submissions"} <= tables


def test_sessions_round_trip_and_codes_are_unique(store):
    session_id = _session(store)
    row = store.session(code="ABCDEF")
    assert row["id"] == session_id and row["title"] == "Period 3" and row["state"] == {"seq": 1, "locked": []}
    assert store.session(token_hash=hash_token("instructor-secret"))["id"] == session_id
    assert store.session(id=session_id + 1) is None
    with pytest.raises(DuplicateError):
        _session(store, token="another")
    store.update_session(session_id, state={"seq": 2}, expires=1500.0)
    assert store.session(id=session_id)["state"] == {"seq": 2} and store.session(id=session_id)["expires"] == 1500.0


def test_names_are_unique_per_session_by_their_key(store):
    first, second = _session(store), _session(store, "GHJKMN", "other")
    store.insert_student(first, "Ada", "ada", hash_token("t1"), 1000.0)
    with pytest.raises(DuplicateError):
        store.insert_student(first, "ADA", "ada", hash_token("t2"), 1000.0)
    store.insert_student(second, "ADA", "ada", hash_token("t3"), 1000.0)  # another session: fine
    assert [row["name"] for row in store.students_of(first)] == ["Ada"]
    assert store.student_session_id(hash_token("t3")) == second
    assert store.student_session_id(hash_token("nobody")) is None


def test_tokens_are_stored_only_as_sha256_hashes(store, tmp_path):
    session_id = _session(store, token="instructor-secret-token")
    store.insert_student(session_id, "Ada", "ada", hash_token("student-secret-token"), 1000.0)
    raw = b"".join(path.read_bytes() for path in (tmp_path / "db").iterdir())  # the file and its WAL
    assert b"secret-token" not in raw
    assert store.student_session_id(hash_token("student-secret-token")) == session_id


def test_progress_latest_and_submissions(store):
    session_id = _session(store)
    student = store.insert_student(session_id, "Ada", "ada", hash_token("t"), 1000.0)
    store.update_progress(student, {"lesson": "x", "step": 2, "done": [0, 1], "completed": False}, 1010.0)
    store.update_latest([{"id": student, "latest": {"summary": {"step": 5}, "sparkline": [[1, 0.5]],
                                                    "thumbnail": [0.0]}, "last_seen": 1020.0}])
    row = store.students_of(session_id)[0]
    assert row["progress"]["step"] == 2 and row["latest"]["summary"] == {"step": 5} and row["last_seen"] == 1020.0
    first = store.insert_submission(session_id, student, 1030.0, "{\"snapshot\": 1}", {"test_accuracy": 0.9})
    second = store.insert_submission(session_id, student, 1040.0, "{\"snapshot\": 2}", {"test_accuracy": 0.95})
    assert [row["id"] for row in store.submissions_of(session_id)] == [first, second]
    assert "snapshot" not in store.submissions_of(session_id)[0]
    assert store.submission(session_id, first)["snapshot"] == "{\"snapshot\": 1}"
    assert store.submission(session_id + 1, first) is None  # only through its own session
    assert store.latest_submission(student)["id"] == second


def test_purge_deletes_sessions_expired_before_a_time_with_everything_in_them(store):
    old, new = _session(store, expires=1500.0), _session(store, "GHJKMN", "other", expires=5000.0)
    student = store.insert_student(old, "Ada", "ada", hash_token("t"), 1000.0)
    store.insert_submission(old, student, 1100.0, "{}", {})
    assert store.purge(expired_before=2000.0) == 1
    assert store.session(id=old) is None and store.students_of(old) == [] and store.submissions_of(old) == []
    assert store.session(id=new) is not None
