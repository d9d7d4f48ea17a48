"""A class in real browsers: one instructor and two students, each in their
own browser context, on the real server with a classroom on a SQLite file;
a student's network dropped and a server restarted in the middle of a
class, which the students' pages survive by themselves."""
from __future__ import annotations

import csv
import io

import pytest

from server.classroom import Classroom
from server.classroom.bench import ServerProcess
from tests.browser.learner import press, wait_for_engine, wait_until

from .conftest import LESSON, TEST_LIMITS
from .network_link import NetworkLink

pytestmark = pytest.mark.usefixtures("no_server_errors")
SECONDS = 60


@pytest.fixture
def class_server(pyodide_dir, tmp_path):
    from server.web import serve_in_thread
    classroom = Classroom(f"sqlite:///{tmp_path / 'classroom.sqlite3'}", limits=TEST_LIMITS)
    try:
        with serve_in_thread(pyodide_dir, classroom=classroom) as url:
            yield url.rstrip("/")
    finally:
        classroom.close()


def start_class(new_page, url: str, lesson_title: str = "XOR needs a hidden layer"):
    """The instructor starts a class on the start page; returns (dashboard page, code, dashboard link)."""
    page = new_page(url + "/classroom/")
    page.get_by_label("Title").fill("Period 3")
    page.get_by_label("Lesson").select_option(label=lesson_title)
    page.get_by_role("button", name="Start the session").click()
    code = page.locator("[data-role=join-code]").text_content()
    link = page.locator("[data-role=teach-link]").get_attribute("href")
    page.goto(link)
    page.locator("#live[data-live=true]").wait_for(timeout=SECONDS * 1000)
    return page, code, link


def join(new_page, url: str, code: str, name: str):
    page = new_page(url + "/")
    page.get_by_placeholder("e.g. K7QX2M").fill(code)
    page.get_by_placeholder("as the class sees it").fill(name)
    page.get_by_role("button", name="Join the class").click()
    page.locator(f"[data-role=class-status][data-code='{code}']").wait_for(timeout=SECONDS * 1000)
    wait_for_engine(page)
    return page


def card(dashboard, name: str):
    return dashboard.locator(f"[data-role=student-card][data-name='{name}']")


def test_a_class_with_an_instructor_and_two_students(class_server, new_page):
    dashboard, code, link = start_class(new_page, class_server)
    ada, bob = join(new_page, class_server, code, "Ada"), join(new_page, class_server, code, "Bob")
    for name in ("Ada", "Bob"):
        card(dashboard, name).and_(dashboard.locator("[data-online=true]")).wait_for()
    assert "2 joined, 2 online" in dashboard.locator("#count").text_content()

    # Push the lesson's second step to everyone (its goal keeps them training): both pages open it.
    dashboard.locator("#push-lesson").select_option(LESSON)
    dashboard.locator("#push-step").select_option("1")
    dashboard.locator("[data-role=push]").click()
    for student in (ada, bob):
        student.locator(f"[data-role=lesson-header][data-lesson='{LESSON}'][data-step='1']").wait_for()

    # The students train; the dashboard shows each one's step, loss line and surface.
    for student in (ada, bob):
        press(student, "▶ Train")
    for name in ("Ada", "Bob"):
        figures = card(dashboard, name).locator("[data-role=figures]")
        wait_until(dashboard, lambda figures=figures: int(figures.get_attribute("data-step") or 0) > 100, SECONDS,
                   f"{name}'s training does not show on the dashboard")
        assert "step 2 of 4" in card(dashboard, name).locator("[data-role=student-step]").text_content()
        wait_until(dashboard, lambda name=name: card(dashboard, name).locator("[data-role=sparkline] polyline").count()
                   == 1,
                   SECONDS, f"{name} has no loss line")
        assert card(dashboard, name).locator("[data-role=thumbnail]").get_attribute("data-empty") is None

    # Pause everyone: the Train buttons lock.
    dashboard.locator("[data-role=pause]").click()
    for student in (ada, bob):
        wait_until(student, lambda student=student: student.get_by_role("button", name="▶ Train",
                                                                          exact=True).is_disabled(),
                   SECONDS, "the pause did not reach a student")
    dashboard.locator("[data-role=pause][data-paused=true]", has_text="Let everyone train").wait_for()
    dashboard.locator("[data-role=pause]").click()
    wait_until(ada, lambda: ada.get_by_role("button", name="▶ Train", exact=True).is_enabled(), SECONDS,
               "the students were not let go again")

    # Spotlight Ada: both students and the projector see her model.
    card(dashboard, "Ada").locator("[data-role=spotlight]").click()
    for student in (ada, bob):
        student.locator("[data-role=spotlight][data-student=Ada]").wait_for(timeout=SECONDS * 1000)
    projector = new_page(link.replace("/classroom/teach", "/classroom/projector"))
    projector.locator("[data-role=spotlight-name]", has_text="Ada").wait_for(timeout=SECONDS * 1000)

    # Bob submits his model: it is on the leaderboard.
    bob.get_by_role("button", name="Submit my model").click()
    bob.get_by_text("Your model is with the class.").wait_for()
    dashboard.locator("[data-role=leaderboard] td", has_text="Bob").wait_for(timeout=SECONDS * 1000)

    # The results as CSV: one row a student.
    with dashboard.expect_download() as download:
        dashboard.locator("[data-role=export]").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert sorted(row["name"] for row in rows) == ["Ada", "Bob"]


def test_students_come_back_by_themselves_after_a_server_restart(pyodide_dir, tmp_path, new_page):
    database = f"sqlite:///{tmp_path / 'classroom.sqlite3'}"
    server = ServerProcess(database, tmp_path, extra_args=["--pyodide-dir", str(pyodide_dir)]).start()
    try:
        dashboard, code, link = start_class(new_page, server.url)
        ada = join(new_page, server.url, code, "Ada")
        card(dashboard, "Ada").and_(dashboard.locator("[data-online=true]")).wait_for()
        dashboard.locator("#push-lesson").select_option(LESSON)
        dashboard.locator("#push-step").select_option("1")
        dashboard.locator("[data-role=push]").click()
        ada.locator("[data-role=lesson-header][data-step='1']").wait_for()

        server.stop()
        dashboard.locator("#live[data-live=false]").wait_for(timeout=SECONDS * 1000)  # "reconnecting…"
        server = ServerProcess(database, tmp_path, port=server.port,
                               extra_args=["--pyodide-dir", str(pyodide_dir)]).start()

        # Ada's page notices, waits for the server and reloads: the same class, the same step.
        ada.locator(f"[data-role=class-status][data-code='{code}']").wait_for(timeout=SECONDS * 2000)
        ada.locator("[data-role=lesson-header][data-step='1']").wait_for(timeout=SECONDS * 1000)
        dashboard.locator("#live[data-live=true]").wait_for(timeout=SECONDS * 1000)
        card(dashboard, "Ada").and_(dashboard.locator("[data-online=true]")).wait_for(timeout=SECONDS * 1000)
        assert "1 joined, 1 online" in dashboard.locator("#count").text_content()
    finally:
        server.stop()


def test_a_student_comes_back_by_herself_after_her_network_drops(class_server, new_page):
    # Ada's browser reaches the server through a line the test can cut; the teacher's does not.
    link = NetworkLink(int(class_server.rsplit(":", 1)[1]))
    try:
        dashboard, code, _ = start_class(new_page, class_server)
        ada = join(new_page, link.url, code, "Ada")
        online = card(dashboard, "Ada").and_(dashboard.locator("[data-online=true]"))
        online.wait_for(timeout=SECONDS * 1000)
        dashboard.locator("#push-lesson").select_option(LESSON)
        dashboard.locator("#push-step").select_option("1")
        dashboard.locator("[data-role=push]").click()
        ada.locator("[data-role=lesson-header][data-step='1']").wait_for(timeout=SECONDS * 1000)
        # What she builds in the step, before the line drops:
        ada.locator("[data-role=add-layer]").click()
        layers = ada.locator(".pg-layers-header")
        wait_until(ada, lambda: "1 hidden layer" in layers.text_content().lower(), SECONDS, "no hidden layer added")

        link.cut()
        notice = ada.locator("[data-role=reconnecting]")
        notice.wait_for(timeout=SECONDS * 1000)
        assert "Lost the connection to the class server" in notice.text_content()
        card(dashboard, "Ada").and_(dashboard.locator("[data-online=false]")).wait_for(timeout=SECONDS * 1000)

        link.restore()
        # Her page finds the server again and reloads: the same class, step and network.
        notice.wait_for(state="detached", timeout=SECONDS * 1000)
        ada.locator(f"[data-role=class-status][data-code='{code}']").wait_for(timeout=SECONDS * 1000)
        ada.locator("[data-role=lesson-header][data-step='1']").wait_for(timeout=SECONDS * 1000)
        wait_until(ada, lambda: "1 hidden layer" in (layers.text_content() or "").lower(), SECONDS,
                   "the network she built was lost")
        online.wait_for(timeout=SECONDS * 1000)
        assert "1 joined, 1 online" in dashboard.locator("#count").text_content()
    finally:
        link.close()
