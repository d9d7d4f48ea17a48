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
#: Magnitudes that have no sign (gradient sizes, a loss): one hue, light to
#: dark, apart from the orange/blue of signed values.
MAGNITUDE = ("#f2f0f7", "#9e9ac8", "#3f007d")
#: Marks for units the coach flags (dead, saturated) and a selected example.
ALERT = "#c51b7d"


def as_dict() -> dict:
    return {"negative": NEGATIVE, "zero": ZERO, "positive": POSITIVE, "classes": list(CLASSES),
            "magnitude": list(MAGNITUDE), "alert": ALERT}


def signed_colour(value: float) -> str:
    """The colour of a value in [-1, 1] (beyond it, the nearest end), as the
    views' colour table gives it: straight lines in RGB from orange through
    near-white to blue."""
    v = max(-1.0, min(1.0, float(value))) if value == value else 0.0  # NaN: zero
    low, high, t = (NEGATIVE, ZERO, v + 1.0) if v < 0 else (ZERO, POSITIVE, v)
    a, b = (tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5)) for colour in (low, high))
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))
