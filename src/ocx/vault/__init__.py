"""The vault: a customer's data split over the object stores of landlords that do not collude.

Client side only (no server of its own): :mod:`ocx.vault.vault` is the Python API,
:mod:`ocx.vault.cli` the ``ocx vault …`` command. See ``docs/vault.md``.
"""
