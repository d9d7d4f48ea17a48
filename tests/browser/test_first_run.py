"""The first minute on the page: the first run counts from its first step
(the loss chart, a lesson's goal), Reset draws new weights and writes their
seed into the address, and a reload comes back with the same run."""
from __future__ import annotations

import re

from playground.lessons import LESSON_START
from playground.spec import edits

from .learner import link, number, pause, step, train, wait_for_engine, wait_until

#: A summary reaches Python about 200 ms after a frame; seconds allowed for
#: the first points of a run to show on the loss chart.
FIRST_POINTS_SECONDS = 3
#: Seconds for a reload to find its engine and its kept run again.
RESUME_SECONDS = 60


def loss_chart_points(page) -> int:
    """How many steps the loss chart shows (its data source's points)."""
    return page.evaluate("""() => {
        for (const doc of window.Bokeh ? window.Bokeh.documents : []) {
            for (const model of doc.all_models) {
                const data = model.data;
                if (data && data.step && data.train && data.test) return data.step.length;
            }
        }
        return 0;
    }""")


def chart_fills_on_first_train(page) -> None:
    wait_for_engine(page)
    assert loss_chart_points(page) <= 1  # before training: at most the run's step-0 point
    train(page)
    wait_until(page, lambda: loss_chart_points(page) >= 3, FIRST_POINTS_SECONDS,
               "the loss chart shows no points of the first run")


def test_the_first_run_on_the_front_page_shows_on_the_loss_chart(app_url, new_page):
    page = new_page(app_url)
    chart_fills_on_first_train(page)


def test_the_first_run_of_a_link_shows_on_the_loss_chart(app_url, new_page):
    spec = edits.set_task(LESSON_START, dataset="xor")
    page = new_page(link(app_url, spec))
    chart_fills_on_first_train(page)


def test_the_first_run_of_a_lesson_link_reaches_its_goal_panel(app_url, new_page):
    page = new_page(f"{app_url}?lesson=hidden-layers-xor")
    goal = page.locator("[data-role=lesson-goal]")
    goal.wait_for()
    chart_fills_on_first_train(page)
    # The goal reads the run: a measured value, not "not measured yet".
    wait_until(page, lambda: "not measured yet" not in (goal.text_content() or ""), FIRST_POINTS_SECONDS,
               f"the lesson's goal did not see the first run: {goal.text_content()!r}")


def edge_weights(page) -> list[float]:
    """The weights the network graph draws (its edges' titles give them)."""
    wait_until(page, lambda: page.locator(".pg-edge-hit").count() > 0, 30, "no edges drawn")
    return page.evaluate("""() => {
        const view = window.playgroundViews[0];
        const arrays = view.frame.arrays;
        return Object.keys(arrays).filter((name) => name.startsWith("param/")).sort()
            .flatMap((name) => Array.from(arrays[name].data));
    }""")


def test_reset_draws_new_weights_and_writes_their_seed_into_the_address(app_url, new_page):
    page = new_page(app_url)
    wait_for_engine(page)
    seen = [edge_weights(page)]
    addresses = [page.url]
    for _ in range(2):
        page.get_by_role("button", name="Reset", exact=True).click()
        wait_until(page, lambda: page.url not in addresses, 15, "Reset did not change the address")
        addresses.append(page.url)
        wait_until(page, lambda: edge_weights(page) not in seen, 15, "Reset did not give new weights")
        seen.append(edge_weights(page))
    assert len({tuple(weights) for weights in seen}) == 3
    # The address reproduces the run: a new page from it starts with the same weights.
    again = new_page(addresses[-1])
    wait_for_engine(again)
    assert edge_weights(again) == seen[-1]


def test_a_reload_comes_back_with_the_same_run(app_url, new_page):
    page = new_page(app_url)
    wait_for_engine(page)
    train(page)
    wait_until(page, lambda: step(page) > 300, 60, "the run did not train")
    pause(page)
    # Kept as the run goes; wait until the paused run's step is the one kept.
    at_pause, loss = step(page), number(page, "test-loss")
    points = loss_chart_points(page)
    wait_until(page, lambda: page.evaluate("() => window.playgroundViews[0].keptStep") == at_pause, 15,
               "the paused run was not kept")
    page.reload()
    wait_for_engine(page, RESUME_SECONDS)
    wait_until(page, lambda: step(page) == at_pause, 15, f"the run did not resume at step {at_pause}")
    assert number(page, "test-loss") == loss
    assert loss_chart_points(page) >= points - 1  # the curve so far came back too
    assert re.search(r"goes on from step", page.locator(".pg-notice").text_content() or "")
    # Training goes on from there.
    train(page)
    wait_until(page, lambda: step(page) > at_pause, 30, "the resumed run did not train on")


def test_a_reload_of_a_training_run_trains_on(app_url, new_page):
    page = new_page(app_url)
    wait_for_engine(page)
    train(page)
    wait_until(page, lambda: page.evaluate("() => window.playgroundViews[0].keptStep || 0") > 100, 60,
               "the training run was not kept")
    kept = page.evaluate("() => window.playgroundViews[0].keptStep")
    page.reload()
    wait_for_engine(page, RESUME_SECONDS)
    page.get_by_role("button", name="❚❚ Pause", exact=True).wait_for()
    wait_until(page, lambda: step(page) > kept, 30, "the reloaded run does not train on from where it was kept")


def test_a_fresh_link_starts_fresh(app_url, new_page):
    page = new_page(app_url)
    wait_for_engine(page)
    train(page)
    wait_until(page, lambda: page.evaluate("() => window.playgroundViews[0].keptStep || 0") > 100, 60,
               "the training run was not kept")
    pause(page)
    page.goto(page.url)  # the same address, opened again rather than reloaded
    wait_for_engine(page)
    assert step(page) == 0
