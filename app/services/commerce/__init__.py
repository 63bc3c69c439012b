"""Selling: counter sales (and, later, orders)."""
