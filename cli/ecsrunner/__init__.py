"""``python -m ecsrunner``: the operator's CLI for an ecsrunner deployment.

A thin layer over :mod:`ecsrunner_core`: configuration, argument parsing and presentation live
here; records, statuses, views and use cases come from the core the Lambdas run.
"""

from ecsrunner_core import __version__

__all__ = ["__version__"]
