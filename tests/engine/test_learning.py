"""Learning works, seeded and fast: the small networks the lessons rely on
reach their accuracy in a fixed number of epochs."""
import numpy as np
import pytest

from . import recipes


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tanh_net_learns_xor(dtype):
    assert recipes.xor_training_accuracy(dtype) > 0.95


def test_tanh_net_learns_spiral():
    assert recipes.spiral_training_accuracy() > 0.95


def test_untrained_net_does_not_already_solve_spiral():
    """The accuracy above comes from training, not from the data being easy."""
    assert recipes.spiral_training_accuracy(epochs=0) < 0.7


def test_small_cnn_reaches_ninety_percent_on_digits():
    assert recipes.digits_test_accuracy() > 0.90


def test_gru_solves_parity_of_length_eight():
    assert recipes.parity_mistakes() == 0


def test_untrained_gru_does_not_know_parity():
    assert recipes.parity_mistakes(epochs=0) > 50
