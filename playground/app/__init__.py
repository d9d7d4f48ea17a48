"""The Panel app: the page, its views and the browser runtime files (never imports torch)."""
