"""Settings for entry points: read once, bad values reported as one line."""

from __future__ import annotations

from infrastructure.settings import Settings, SettingsError


class ConfigurationError(Exception):
    """A setting is invalid; the message is the one line to show."""


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise ConfigurationError(str(error)) from None
