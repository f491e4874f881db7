"""Calibration to Beijing's published figures: targets, the fit, and its report."""
