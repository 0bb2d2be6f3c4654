"""Shelfwise demand forecasting and inventory optimisation."""
