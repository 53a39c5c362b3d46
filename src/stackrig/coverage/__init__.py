"""Coverage of the processes under test: Python services under coverage.py, Node services through
V8, combined per service at the end of the session (see :mod:`._session`)."""

from ._session import ENV, CoverageSession, ServiceCoverage
from ._v8 import v8_line_counts, write_lcov

__all__ = ["ENV", "CoverageSession", "ServiceCoverage", "v8_line_counts", "write_lcov"]
