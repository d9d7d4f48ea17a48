"""A restart in the middle of a class loses nothing: `playground serve` runs
as a subprocess on a SQLite file, is stopped with SIGTERM (as a service
manager stops it) and started again on the same file; the same tokens work."""
import json

from server.classroom.bench import ServerProcess, call

from .conftest import LESSON, Socket, run


def test_a_restart_loses_no_student_progress_or_submission(tmp_path, snapshot_text):
    database = f"sqlite:///{tmp_path / 'classroom.sqlite3'}"
    with ServerProcess(database, tmp_path) as server:
        status, created = call("POST", server.url + "/api/classroom/sessions", {"title": "Period 3", "lesson": LESSON})
        assert status == 201
        token = created["instructor_token"]
        ada = call("POST", server.url + "/api/classroom/join", {"code": created["code"], "name": "Ada"})[1]
        bob = call("POST", server.url + "/api/classroom/join", {"code": created["code"], "name": "Bob"})[1]
        status, _ = call("POST", server.url + "/api/classroom/progress",
                         {"lesson": LESSON, "step": 2, "done": [0, 1], "completed": False}, ada["student_token"])
        assert status == 200
        status, submitted = call("POST", server.url + "/api/classroom/submissions",
                                 {"snapshot": snapshot_text, "metrics": {"test_accuracy": 0.875}},
                                 bob["student_token"])
        assert status == 201
        # A summary over the websocket: held in memory, written when the server stops.
        ws = server.url.replace("http://", "ws://") + "/api/classroom/live?token="

        async def send_summary():
            socket = await Socket.open(ws + bob["student_token"])
            await socket.receive()
            await socket.send({"type": "summary", "summary": {"step": 40, "test_loss": 0.25}, "sent": 1.0})
            instructor = await Socket.open(ws + token)
            await instructor.receive_until(lambda m: m["type"] == "roster" and any(
                (s["summary"] or {}).get("step") == 40 for s in m["students"]))
            socket.close()
            instructor.close()

        run(send_summary())
        assert call("POST", server.url + "/api/classroom/locks", {"locked": ["run"]}, token)[0] == 200
        before = call("GET", server.url + "/api/classroom/session", token=token)[1]
    assert server.process.returncode == 0, server.log.read_text()[-2000:]

    with ServerProcess(database, tmp_path) as again:
        status, after = call("GET", again.url + "/api/classroom/session", token=token)
        assert status == 200
        assert [s["name"] for s in after["students"]] == ["Ada", "Bob"]
        assert after["students"][0]["progress"] == {"lesson": LESSON, "step": 2, "done": [0, 1], "completed": False}
        assert after["students"][1]["summary"]["step"] == 40 and after["students"][1]["sparkline"] == [0.25]
        assert after["submissions"] == 1 and after["state"] == before["state"] and after["seq"] == 2
        for key in ("id", "name", "joined", "progress", "summary", "sparkline", "submissions"):
            assert [s[key] for s in after["students"]] == [s[key] for s in before["students"]], key
        status, text = call("GET", again.url + f"/api/classroom/submissions/{submitted['submission']['id']}",
                            token=token)
        assert status == 200 and text == json.loads(snapshot_text)
        assert call("GET", again.url + "/api/classroom/me", token=ada["student_token"])[1]["student"]["name"] == "Ada"
        status, answer = call("POST", again.url + "/api/classroom/join", {"code": created["code"], "name": "ada"})
        assert status == 409  # the roster is the same one
        ws = again.url.replace("http://", "ws://") + "/api/classroom/live?token="

        async def reconnect():
            instructor = await Socket.open(ws + token)
            await instructor.receive_until(lambda m: m["type"] == "roster")
            sockets = [await Socket.open(ws + student["student_token"]) for student in (ada, bob)]
            states = [await socket.receive() for socket in sockets]
            online = set()
            while online != {"Ada", "Bob"}:
                message = await instructor.receive_until(lambda m: m["type"] == "roster")
                online |= {s["name"] for s in message["students"] if s["online"]}
            for socket in sockets:
                socket.close()
            instructor.close()
            return states

        for state in run(reconnect()):
            assert state["type"] == "state" and state["state"]["locked"] == ["run"] and state["seq"] == 2
