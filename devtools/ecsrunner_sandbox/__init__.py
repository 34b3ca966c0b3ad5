"""Local sandbox tooling: stand-ins for GitHub and AWS Lambda/EventBridge, and `make demo`.

Not shipped in the Lambda zip or the CLI; used by tests, `make demo` and `bench/`.
"""
