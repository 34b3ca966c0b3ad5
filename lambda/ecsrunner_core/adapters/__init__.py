"""Adapters: implementations of :mod:`ecsrunner_core.ports` for GitHub (requests) and AWS (boto3)."""
