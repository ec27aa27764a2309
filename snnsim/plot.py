"""Plots (placeholder during bring-up)."""
