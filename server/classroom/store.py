"""Where classroom sessions are kept: SQLAlchemy Core on an embedded SQLite
file by default, or any database SQLAlchemy reaches by URL (PostgreSQL with
``postgresql+psycopg://…``, the ``postgres`` extra) with the same code.

Three tables: ``sessions`` (one per class, its join code and its state),
``students`` (the roster: progress, and the latest summary, sparkline and
thumbnail) and ``submissions`` (snapshots handed in, with their metrics).
Times are Unix seconds (floats) so that every database stores them alike.
Tokens are never stored, only their sha256: a copied database file lets no
one into a class.

Everything here is synchronous and safe to call from any thread (one
connection per call from SQLAlchemy's pool); ``service.Classroom`` decides
what is written when.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

metadata = sa.MetaData()

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(16), nullable=False, unique=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("lesson", sa.String(100)),
    sa.Column("instructor_token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
    sa.Column("state", sa.JSON(none_as_null=True), nullable=False),
)

students = sa.Table(
    "students", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(80), nullable=False),
    # The name folded for comparison: names are unique in a session ignoring case,
    # and the database enforces it, so two students joining at once cannot both get one.
    sa.Column("name_key", sa.String(160), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("joined", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Column("progress", sa.JSON(none_as_null=True)),
    sa.Column("latest", sa.JSON(none_as_null=True)),
    sa.UniqueConstraint("session_id", "name_key", name="students_unique_name"),
)

submissions = sa.Table(
    "submissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("student_id", sa.Integer, sa.ForeignKey("students.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("snapshot", sa.Text, nullable=False),
    sa.Column("metrics", sa.JSON(none_as_null=True), nullable=False),
)

sa.Index("students_by_session", students.c.session_id)


class DuplicateError(Exception):
    """An insert broke a unique rule (a join code or a name already taken)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def default_database_url() -> str:
    """``$PLAYGROUND_CLASSROOM_DB``, else a SQLite file in the user's data
    folder (``$XDG_DATA_HOME/playground``, ``~/.local/share/playground``):
    class records are kept, not a cache to be wiped."""
    given = os.environ.get("PLAYGROUND_CLASSROOM_DB")
    if given:
        return database_url(given)
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return database_url(base / "playground" / "classroom.sqlite3")


def database_url(url_or_path) -> str:
    """A SQLAlchemy URL as given, or a file path made into ``sqlite:///<absolute path>``."""
    text = str(url_or_path)
    if "://" in text:
        make_url(text)  # raises ArgumentError for a malformed URL, before any connection
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


class Store:
    """The classroom's tables in one database."""

    def __init__(self, url: str):
        self.url = database_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if not parsed.database or parsed.database == ":memory:":
                raise ValueError("the classroom needs a SQLite file (sqlite:///path/to/file.sqlite3), not an "
                                 "in-memory database: a restart would lose every class")
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(self.url, connect_args={"timeout": 30})
            sa.event.listen(self.engine, "connect", _sqlite_setup)
        else:
            self.engine = sa.create_engine(self.url, pool_pre_ping=True)
        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # --- sessions ---------------------------------------------------------------------------

    def insert_session(self, code: str, title: str, lesson: str | None, token_hash: str, created: float,
                       expires: float, state: dict) -> int:
        try:
            with self.engine.begin() as db:
                return db.execute(sessions.insert().values(
                    code=code, title=title, lesson=lesson, instructor_token_hash=token_hash, created=created,
                    expires=expires, state=state)).inserted_primary_key[0]
        except sa.exc.IntegrityError as error:
            raise DuplicateError(str(error.orig)) from None

    def session(self, *, id: int | None = None, code: str | None = None, token_hash: str | None = None):
        """One session's row as a dict, found by id, join code or the instructor token's hash; None if none."""
        column, value = ((sessions.c.id, id) if id is not None else (sessions.c.code, code) if code is not None
                         else (sessions.c.instructor_token_hash, token_hash))
        with self.engine.connect() as db:
            row = db.execute(sa.select(sessions).where(column == value)).mappings().first()
        return dict(row) if row else None

    def update_session(self, session_id: int, **values) -> None:
        """Set ``state`` and/or ``expires``."""
        with self.engine.begin() as db:
            db.execute(sessions.update().where(sessions.c.id == session_id).values(**values))

    def purge(self, expired_before: float) -> int:
        """Delete the sessions that expired before this time, with their
        students and submissions; returns how many sessions went."""
        with self.engine.begin() as db:
            old = sa.select(sessions.c.id).where(sessions.c.expires < expired_before).scalar_subquery()
            db.execute(submissions.delete().where(submissions.c.session_id.in_(old)))
            db.execute(students.delete().where(students.c.session_id.in_(old)))
            return db.execute(sessions.delete().where(sessions.c.expires < expired_before)).rowcount

    # --- students ---------------------------------------------------------------------------

    def insert_student(self, session_id: int, name: str, name_key: str, token_hash: str, joined: float) -> int:
        try:
            with self.engine.begin() as db:
                return db.execute(students.insert().values(
                    session_id=session_id, name=name, name_key=name_key, token_hash=token_hash, joined=joined,
                    last_seen=joined, progress=None, latest=None)).inserted_primary_key[0]
        except sa.exc.IntegrityError as error:
            raise DuplicateError(str(error.orig)) from None

    def student_session_id(self, token_hash: str) -> int | None:
        """The session of the student holding this token, None if no student does."""
        with self.engine.connect() as db:
            return db.execute(sa.select(students.c.session_id).where(students.c.token_hash == token_hash)).scalar()

    def students_of(self, session_id: int) -> list[dict]:
        """The roster rows of a session, in the order they joined."""
        with self.engine.connect() as db:
            rows = db.execute(sa.select(students).where(students.c.session_id == session_id)
                              .order_by(students.c.id)).mappings().all()
        return [dict(row) for row in rows]

    def update_progress(self, student_id: int, progress: dict, last_seen: float) -> None:
        with self.engine.begin() as db:
            db.execute(students.update().where(students.c.id == student_id)
                       .values(progress=progress, last_seen=last_seen))

    def update_latest(self, rows: list[dict]) -> None:
        """Many students' latest summary, sparkline and thumbnail in one
        transaction: rows of {"id", "latest", "last_seen"}."""
        if not rows:
            return
        statement = (students.update().where(students.c.id == sa.bindparam("student"))
                     .values(latest=sa.bindparam("latest"), last_seen=sa.bindparam("seen")))
        with self.engine.begin() as db:
            db.execute(statement, [{"student": row["id"], "latest": row["latest"], "seen": row["last_seen"]}
                                   for row in rows])

    # --- submissions ------------------------------------------------------------------------

    def insert_submission(self, session_id: int, student_id: int, created: float, snapshot: str,
                          metrics: dict) -> int:
        with self.engine.begin() as db:
            return db.execute(submissions.insert().values(
                session_id=session_id, student_id=student_id, created=created, snapshot=snapshot,
                metrics=metrics)).inserted_primary_key[0]

    def submissions_of(self, session_id: int) -> list[dict]:
        """A session's submissions without their snapshots: id, student_id, created, metrics."""
        columns = (submissions.c.id, submissions.c.student_id, submissions.c.created, submissions.c.metrics)
        with self.engine.connect() as db:
            rows = db.execute(sa.select(*columns).where(submissions.c.session_id == session_id)
                              .order_by(submissions.c.id)).mappings().all()
        return [dict(row) for row in rows]

    def submission(self, session_id: int, submission_id: int) -> dict | None:
        """One submission of this session, snapshot included; None if the
        session has no such submission (whatever other sessions have)."""
        with self.engine.connect() as db:
            row = db.execute(sa.select(submissions).where(submissions.c.id == submission_id,
                                                          submissions.c.session_id == session_id)).mappings().first()
        return dict(row) if row else None

    def latest_submission(self, student_id: int) -> dict | None:
        with self.engine.connect() as db:
            row = db.execute(sa.select(submissions).where(submissions.c.student_id == student_id)
                             .order_by(submissions.c.id.desc()).limit(1)).mappings().first()
        return dict(row) if row else None


def _sqlite_setup(connection, record) -> None:
    """WAL: readers never wait for the writer and a commit is one append;
    synchronous=NORMAL keeps every commit through a crash of the process (a
    power cut may lose the last ones); busy_timeout lets two threads' writes
    queue instead of failing."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
