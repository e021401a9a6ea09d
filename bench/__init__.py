"""Benchmarks (README "Benchmarks"). They run the development stand-ins, which production (the default mode)
refuses; every server, worker and command they start inherits this."""
import os

os.environ["YCT_MODE"] = "development"
