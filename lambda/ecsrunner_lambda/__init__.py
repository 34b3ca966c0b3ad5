"""Thin AWS Lambda handlers: Powertools decorators and one call into an ecsrunner_core use case."""
