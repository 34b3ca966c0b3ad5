"""ecsrunner core: domain rules, ports, use cases and adapters shared by the Lambdas and the CLI.

Nothing in this package imports the handlers (``ecsrunner_lambda``), the CLI (``ecsrunner``) or
Powertools.
"""

__version__ = "0.1.0"
