"""Classroom sessions: an instructor opens a session, students join it with a
short code and a name, and the instructor watches and steers the class.

- ``store.py`` — the tables (SQLite by default, any SQLAlchemy URL);
- ``validate.py`` — what every input must be, with errors naming the field;
- ``ratelimit.py`` — per-address limits on join tries and new sessions;
- ``service.py`` — ``Classroom``, the logic and the live feeds (no HTTP);
- ``api.py`` — the REST and websocket endpoints (README, "Classroom API");
- ``bench.py`` — ``playground bench classroom``.
"""
from .service import Classroom, ClassroomLimits, Created, Joined, Message, Session, Student
from .validate import ClassroomError

__all__ = ["Classroom", "ClassroomError", "ClassroomLimits", "Created", "Joined", "Message", "Session", "Student"]
