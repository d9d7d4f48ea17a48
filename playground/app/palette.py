"""The one visual language of the playground's views.

One diverging palette for negative/positive values everywhere (orange,
near-white, blue: apart for every common kind of colour blindness), and
the Okabe–Ito colours for classes. The renderer receives these from here.
"""

NEGATIVE = "#e66101"
ZERO = "#f7f7f7"
POSITIVE = "#1f78b4"
#: Okabe & Ito's colour-blind-safe set, in the order classes use them.
CLASSES = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9")
TRAIN_LINE = "#1f78b4"
TEST_LINE = "#e66101"


def as_dict() -> dict:
    return {"negative": NEGATIVE, "zero": ZERO, "positive": POSITIVE, "classes": list(CLASSES)}
