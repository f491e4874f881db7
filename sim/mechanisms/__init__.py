"""The mechanisms of the four regimes, one module each, named as in docs/model.md.

Each is a small object the model builds from its scenario section; agents call it where the
mechanism acts. A switched-off mechanism is the same object behaving as the old model did, so the
engine never asks which regime it is in.
"""
