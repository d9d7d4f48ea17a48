"""Every layer type, activation and loss: backprop agrees with finite
differences in float64, for the parameters and for the input."""
import pytest

from .cases import CASES, case_batch, case_spec
from .gradcheck import check_input_gradient, check_parameter_gradients


@pytest.mark.parametrize("name", sorted(CASES))
def test_parameter_gradients_match_finite_differences(name):
    spec = case_spec(name)
    x, labels = case_batch(spec)
    assert check_parameter_gradients(spec, x, labels) > 0


@pytest.mark.parametrize("name", sorted(CASES))
def test_input_gradient_matches_finite_differences(name):
    spec = case_spec(name)
    x, labels = case_batch(spec, seed=3)
    assert check_input_gradient(spec, x, labels) > 0


def test_gradient_check_catches_a_wrong_gradient(monkeypatch):
    """The check itself must be able to fail: break tanh's derivative."""
    from playground.engine import activations

    monkeypatch.setattr(activations.Tanh, "backward", lambda self, z, a, g: g * (1.0 - a))
    spec = case_spec("dense-tanh")
    x, labels = case_batch(spec)
    with pytest.raises(AssertionError):
        check_parameter_gradients(spec, x, labels)
