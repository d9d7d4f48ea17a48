"""`playground serve`'s classroom options: where the database is, and a
clear stop when it cannot be opened (before anything listens)."""
from server.classroom.store import default_database_url
from server.cli import main


def test_the_default_database_is_a_file_in_the_users_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("PLAYGROUND_CLASSROOM_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_database_url() == f"sqlite:///{tmp_path / 'playground' / 'classroom.sqlite3'}"
    monkeypatch.setenv("PLAYGROUND_CLASSROOM_DB", str(tmp_path / "elsewhere.sqlite3"))
    assert default_database_url() == f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"


def test_a_database_that_cannot_be_opened_stops_serve_with_a_message(capsys):
    assert main(["serve", "--classroom-db", "nosuchdatabase://somewhere/db"]) == 1
    error = capsys.readouterr().err
    assert "the classroom database cannot be opened" in error and "--no-classroom" in error


def test_bad_hours_stop_serve_with_a_message(tmp_path, capsys):
    assert main(["serve", "--classroom-db", str(tmp_path / "c.sqlite3"), "--classroom-hours", "0"]) == 1
    assert "hours: must be a finite number" in capsys.readouterr().err
