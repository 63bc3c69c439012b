"""What a tenant sells and holds: products, categories, stock."""
