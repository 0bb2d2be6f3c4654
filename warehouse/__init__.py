"""Shelfwise warehouse: one DuckDB file, raw -> staging -> marts."""
