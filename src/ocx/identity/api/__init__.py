"""Identity's HTTP layer: parse, call, render. The URL table is ``ocx.identity.routes``."""
