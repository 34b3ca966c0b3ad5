"""What every command gets: its arguments, the console, the configuration and the one client factory."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cached_property

from ecsrunner_core.settings import Settings
from ecsrunner_core.wiring import Services

from . import clients
from .config import Configuration
from .console import Console
from .failures import Where


class Context:
    def __init__(self, args: argparse.Namespace, console: Console, environ: Mapping[str, str]) -> None:
        self.args = args
        self.console = console
        self.environ = environ
        self.settings: Settings | None = None
        self.region: str | None = None  # the region the AWS clients actually use

    @cached_property
    def config(self) -> Configuration:
        return Configuration.resolve(
            self.environ,
            terraform_dir=getattr(self.args, "terraform_dir", None),
            region=getattr(self.args, "region", None),
            profile=getattr(self.args, "profile", None),
        )

    def read_only_settings(self, command: str, needs: Sequence[str]) -> Settings:
        self.settings = self.config.read_only_settings(command, needs)
        return self.settings

    def deployment_settings(self, command: str, needs: Sequence[str] = ()) -> Settings:
        self.settings = self.config.deployment_settings(command, needs)
        return self.settings

    def services(self, settings: Settings) -> Services:
        services = clients.make_services(settings, region=self.config.region, profile=self.config.profile)
        self.region = services.session.region_name
        return services

    def where(self) -> Where:
        if "config" not in self.__dict__:  # the failure happened before any configuration was read
            return Where()
        where = self.config.where(self.settings)
        return replace(where, region=self.region or where.region)
