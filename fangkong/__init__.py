"""Fangkong (防控): community epidemic prevention and control platform."""
