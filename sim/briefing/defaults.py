"""The brief's defaults that its command line shows (kept apart from the findings, so that
`govsim --help` does not load matplotlib)."""

#: Below this many seeds the brief warns that its runs cannot carry its findings.
MIN_SEEDS = 3
#: Below this warm-up the brief warns that its runs start cold (the presets carry 60 days, which
#: `govsim compare`, the brief and `sim.run` all use unless told otherwise).
BRIEF_WARMUP_DAYS = 60
