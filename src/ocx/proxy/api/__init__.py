"""The proxy's HTTP layer: parse, call the domain modules, relay or render."""
