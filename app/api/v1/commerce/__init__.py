"""Selling: counter sales and orders."""
