"""Tests of federation: the mapping engine and its CLI."""
