"""The coach, as a learner meets it: a run at learning rate 10 is paused
with a message that says what happened and what to try; dead units are
named and outlined."""
from playground.spec import Dense, Spec, Task

from ..browser.learner import link, step, train, wait_for_engine, wait_until


def test_coach_pauses_a_run_at_learning_rate_ten(app_url, new_page):
    page = new_page(link(app_url, Spec(task=Task("circle"), layers=(Dense(4), Dense(2)))))
    wait_for_engine(page)
    page.get_by_role("combobox", name="Learning rate").select_option("10")
    train(page)
    coach = page.locator("[data-role=coach]")
    wait_until(page, lambda: "Training has blown up" in (coach.text_content() or ""), 60,
               "the coach said nothing about the run at learning rate 10")
    assert "Lower the learning rate" in coach.text_content()
    assert page.locator(".pg-advice[data-severity=stop]").count() == 1
    page.get_by_role("button", name="▶ Train", exact=True).wait_for(timeout=10_000)  # paused by the coach
    paused_at = step(page)
    page.wait_for_timeout(1500)
    assert step(page) == paused_at, "a paused run must not train"


def test_coach_names_and_outlines_dead_neurons(app_url, new_page):
    page = new_page(link(app_url, Spec(task=Task("xor"), layers=(Dense(3, "relu"),))))
    wait_for_engine(page)
    page.locator("[data-node='0-1']").click()
    bias = page.locator(".pg-editor [data-param='b-1']")
    bias.fill("-30")
    bias.press("Enter")
    coach = page.locator("[data-role=coach]")
    wait_until(page, lambda: "1 dead neuron" in (coach.text_content() or ""), 30, "no word about the dead neuron")
    assert "never learn again" in coach.text_content()
    wait_until(page, lambda: page.locator("[data-node='0-1']").get_attribute("data-flag") == "dead_units", 10,
               "the dead neuron is not outlined")
    assert page.locator("[data-node='0-0']").get_attribute("data-flag") == ""
