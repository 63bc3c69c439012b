"""Selling: orders, online payments, refunds, storage agreements."""
