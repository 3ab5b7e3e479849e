"""Real peers (OpenStack services from PyPI) that benchmarks and interop tests run against."""
