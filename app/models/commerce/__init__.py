"""What a tenant sells to its customers and how they pay it: orders, its own payment gateway,
online payments and refunds."""
