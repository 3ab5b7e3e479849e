"""The Budget panel."""
