"""The numpy engine: layers, losses, optimisers, training and probes.

numpy only, and Python 3.12 / numpy 2.0.2 compatible: the same code runs in
the browser under Pyodide.
"""
from .activations import ACTIVATIONS, get_activation
from .heads import Head
from .model import Model
from .optimizers import SGD, Adam, Momentum, make_optimizer
from .trainer import Trainer

__all__ = ["ACTIVATIONS", "get_activation", "Head", "Model", "SGD", "Adam", "Momentum",
           "make_optimizer", "Trainer"]
