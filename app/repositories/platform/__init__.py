"""The SaaS around the tenants: tenants, plans, subscriptions, payments, usage, jobs, mail, audit."""
