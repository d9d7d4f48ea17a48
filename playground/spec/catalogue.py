"""The names the spec accepts, defined once for the whole project.

Everything here is plain data so that the spec stays importable with the
standard library alone; the engine and the data layer look their
implementations up by these names (and tests check the two agree).
"""
from __future__ import annotations

from dataclasses import dataclass, field

SPEC_VERSION = 1

#: Hidden-layer activations. ``softmax`` is allowed on the output layer only.
ACTIVATIONS = ("linear", "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "swish")
OUTPUT_ACTIVATIONS = ACTIVATIONS + ("softmax",)

LOSSES = ("squared_error", "binary_cross_entropy", "cross_entropy")
OPTIMIZERS = ("sgd", "momentum", "adam")
#: ``uniform`` is the classic playground's U(-0.5, 0.5); ``zeros`` stays on
#: purpose, for the lesson on symmetry breaking.
INITS = ("uniform", "glorot", "he", "zeros")

LAYER_TYPES = ("dense", "conv2d", "maxpool", "avgpool", "flatten", "dropout", "rnn", "gru", "lstm")
RECURRENT_TYPES = ("rnn", "gru", "lstm")
POOL_TYPES = ("maxpool", "avgpool")
PADDINGS = ("valid", "same")

#: Engineered inputs for the 2-D point datasets, computed from the
#: coordinates (x1, x2); the order here is the order of the input columns.
FEATURES = ("x1", "x2", "x1_squared", "x2_squared", "x1_x2", "sin_x1", "sin_x2")
FEATURE_LABELS = {
    "x1": "x₁", "x2": "x₂", "x1_squared": "x₁²", "x2_squared": "x₂²",
    "x1_x2": "x₁x₂", "sin_x1": "sin(x₁)", "sin_x2": "sin(x₂)",
}
#: The square of the input plane that point datasets live in.
POINT_DOMAIN = (-6.0, 6.0)

#: Characters of the bundled text corpus (after lower-casing); the character
#: model's inputs and outputs are one-hot over this alphabet.
TEXT_ALPHABET = "\n !',-.:;?abcdefghijklmnopqrstuvwxyz"

#: Shapes the ``shapes`` image dataset can draw; each chosen kind is a class.
SHAPE_KINDS = ("hbar", "vbar", "cross", "circle", "triangle")

#: Hard limits, checked by validation before anything is allocated.
LIMITS = {
    "layers": 32,
    "units": 1024,
    "filters": 256,
    "kernel": 11,
    "stride": 4,
    "pool": 8,
    "parameters": 2_000_000,
    "activations_per_example": 1_000_000,
    "activations_per_batch": 32_000_000,
    "samples": 100_000,
    "input_values": 20_000_000,  # samples × values per example: the dataset's memory
    "sequence_length": 256,
    "batch_size": 4096,
    "image_size": 64,
}


@dataclass(frozen=True)
class Option:
    """A dataset-specific setting: an integer range or a subset of choices."""

    default: object
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    help: str = ""
    even: bool = False


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is; its shapes follow from its options (see shapes.py)."""

    name: str
    title: str
    kind: str  # "points", "image" or "sequence"
    problem: str  # "classification" or "regression"
    default_samples: int
    max_samples: int
    per_step: bool = False  # sequence targets at every step, not one per sequence
    uses_noise: bool = True
    options: dict[str, Option] = field(default_factory=dict)
    description: str = ""
    #: Its data is a file on the server (``playground data ...``), too large
    #: to ship to the browser: only server-side training can use it.
    server_only: bool = False


def _points(name, title, problem="classification", options=None, description=""):
    return DatasetInfo(name, title, "points", problem, 500, LIMITS["samples"],
                       options=options or {}, description=description)


DATASETS: dict[str, DatasetInfo] = {d.name: d for d in (
    _points("circle", "Circle", description="a disc of one class inside a ring of the other"),
    _points("xor", "Exclusive or", description="the four quadrants, alternating classes"),
    _points("gauss", "Two Gaussians", description="two overlapping clouds; noise widens them"),
    _points("spiral", "Spiral", description="two interleaved spirals"),
    _points("moons", "Two moons", description="two interlocking half circles"),
    _points("checkerboard", "Checkerboard", description="a 4×4 board of alternating classes"),
    _points("blobs", "Blobs", options={
        "classes": Option(3, 3, 5, help="number of classes, one cloud each")},
        description="3 to 5 clouds, one per class"),
    _points("plane", "Plane", problem="regression", description="the target rises along the diagonal"),
    _points("multigauss", "Multi Gaussian", problem="regression",
            description="six bumps of alternating sign"),
    DatasetInfo("digits", "Handwritten digits (8×8)", "image", "classification", 1797, 1797,
                description="the UCI optical-recognition digits, 8×8 pixels, 10 classes"),
    DatasetInfo("shapes", "Shapes", "image", "classification", 1000, LIMITS["samples"], options={
        "size": Option(12, 8, 16, help="image side in pixels"),
        "kinds": Option(SHAPE_KINDS, choices=SHAPE_KINDS, help="which shapes to draw, one class each"),
    }, description="bars, crosses, circles and triangles drawn at random places"),
    DatasetInfo("sine", "Sine continuation", "sequence", "regression", 500, LIMITS["samples"],
                per_step=True, options={"length": Option(20, 4, 64, help="steps per sequence")},
                description="predict the next value of a sine wave at every step"),
    DatasetInfo("parity", "Parity", "sequence", "classification", 1000, LIMITS["samples"],
                uses_noise=False, options={"length": Option(8, 2, 32, help="bits per sequence")},
                description="is the number of ones in the sequence odd?"),
    DatasetInfo("echo", "Echo after a delay", "sequence", "classification", 1000, LIMITS["samples"],
                uses_noise=False, options={
                    "delay": Option(5, 1, 60, help="steps between the symbol and its echo"),
                    "symbols": Option(4, 2, 8, help="size of the alphabet"),
                }, description="repeat the first symbol after a number of distracting steps"),
    DatasetInfo("brackets", "Bracket matching", "sequence", "classification", 1000, LIMITS["samples"],
                uses_noise=False, options={"length": Option(10, 4, 32, even=True, help="brackets per sequence")},
                description="is the string of brackets balanced?"),
    DatasetInfo("text", "Character-level text", "sequence", "classification", 1000, LIMITS["samples"],
                per_step=True, uses_noise=False, options={
                    "length": Option(16, 4, 64, help="characters per training window")},
                description="predict the next character of a small bundled text"),
    # Server-only: the data are files in the server's data folder (see
    # playground/data/external.py), put there by `playground data fetch/add`.
    # At most 25,000 images: × 784 pixels stays within LIMITS["input_values"].
    DatasetInfo("digits28", "Handwritten digits (28×28)", "image", "classification", 10_000, 25_000,
                server_only=True,
                description="MNIST: 70,000 handwritten digits, 28×28 pixels, 10 classes "
                            "(fetched once onto the server)"),
    # 4,000 windows by default: even at length 128 that stays within the input limit.
    DatasetInfo("corpus", "Character-level text (large corpus)", "sequence", "classification", 4000,
                LIMITS["samples"], per_step=True, uses_noise=False, server_only=True, options={
                    "length": Option(32, 4, 128, help="characters per training window")},
                description="predict the next character of a large text added to the server"),
)}
