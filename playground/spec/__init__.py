"""The model spec: one JSON document describing a whole run (standard library only).

>>> spec = Spec.from_dict({"task": {"dataset": "xor"}, "layers": [{"type": "dense", "units": 4}]})
>>> [plan.label for plan in plan_layers(spec)]
['layer 1 (dense)', 'output layer']
"""
from .catalogue import (ACTIVATIONS, DATASETS, FEATURE_LABELS, FEATURES, INITS, LAYER_TYPES, LIMITS,
                        LOSSES, OPTIMIZERS, OUTPUT_ACTIVATIONS, POINT_DOMAIN, RECURRENT_TYPES,
                        SHAPE_KINDS, SPEC_VERSION, TEXT_ALPHABET, DatasetInfo, Option)
from .errors import SpecError
from .schema import (AvgPool, Conv2D, Dense, Dropout, Flatten, GRU, LSTM, Layer, MaxPool, Output,
                     Pool, Recurrent, SimpleRNN, Spec, Task, Training, default_output, parse_spec)
from .shapes import (LayerPlan, describe_shape, output_units, plan_layers, task_classes,
                     task_input_shape)

__all__ = [
    "ACTIVATIONS", "DATASETS", "FEATURE_LABELS", "FEATURES", "INITS", "LAYER_TYPES", "LIMITS",
    "LOSSES", "OPTIMIZERS", "OUTPUT_ACTIVATIONS", "POINT_DOMAIN", "RECURRENT_TYPES", "SHAPE_KINDS",
    "SPEC_VERSION", "TEXT_ALPHABET", "DatasetInfo", "Option", "SpecError", "AvgPool", "Conv2D",
    "Dense", "Dropout", "Flatten", "GRU", "LSTM", "Layer", "MaxPool", "Output", "Pool", "Recurrent",
    "SimpleRNN", "Spec", "Task", "Training", "default_output", "parse_spec", "LayerPlan",
    "describe_shape", "output_units", "plan_layers", "task_classes", "task_input_shape",
]
