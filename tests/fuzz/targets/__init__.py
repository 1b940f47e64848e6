"""Fuzz targets: each module registers its own with ``tests.fuzz.harness.register``."""
