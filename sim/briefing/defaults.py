"""The brief's defaults that its command line shows (kept apart from the findings, so that
`govsim --help` does not load matplotlib)."""

#: Below this many seeds the brief warns that its runs cannot carry its findings.
MIN_SEEDS = 3
#: The warm-up the brief gives its own runs (a scenario's longer warm-up is kept).
BRIEF_WARMUP_DAYS = 60
