"""Selling: orders, the tenant's own payment gateway, online payments, refunds, storage agreements."""
