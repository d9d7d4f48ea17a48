"""The spec checker on the page says what is wrong, and where."""
from playground.app.page import STARTER_SPEC, SpecChecker


def test_valid_spec_shows_its_layers():
    report = SpecChecker.report(STARTER_SPEC.to_json())
    text = str(report.objects[0].object) + str(report.objects[1].object)
    assert "Valid" in text and "layer 1 (dense)" in text and "output layer" in text


def test_invalid_spec_names_the_place():
    report = SpecChecker.report('{"layers": [{"type": "dense", "units": 0}]}')
    assert report.alert_type == "danger"
    assert "layer 1 (dense): units must be from 1 to 1,024, got 0" in report.object
    assert "layers.0.units" in report.object
