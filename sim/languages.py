"""The languages of charts, briefs and their words (`sim.charts.style` holds the words)."""

LANGS = ("en", "zh")
