"""Shelfwise recommendations: two-tower model, baselines, serving and exports."""
