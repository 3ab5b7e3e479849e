"""The OCX marketplace: landlords, offerings, subscriptions, leases, usage, invoices, brokers."""
