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
