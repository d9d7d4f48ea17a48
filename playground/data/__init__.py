"""The data layer: every dataset the spec names, as numpy arrays.

>>> from playground.spec import Task
>>> data = make_dataset(Task("spiral", samples=100))
>>> data.x_train.shape, data.y_train.shape, data.classes
((50, 2), (50,), 2)
"""
from .dataset import GENERATORS, Dataset, make_dataset
from .features import grid_points, point_features
from .images import load_digits
from .sequences import decode_text, encode_text, is_balanced, load_corpus

__all__ = ["GENERATORS", "Dataset", "make_dataset", "grid_points", "point_features",
           "load_digits", "load_corpus", "encode_text", "decode_text", "is_balanced"]
