"""What the CLI's commands share: how they fail, and the admin token they call the tutor with."""

from __future__ import annotations

from typing import NoReturn

import typer

from cluster.settings import get_settings


def fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code)


def admin_token() -> str:
    """A short-lived admin token from the shared secret (development), for the eval commands."""
    from access.tokens import mint

    config = get_settings().token_config()
    if config is None:
        return "unused"  # AUTH_MODE=off: every caller is the developer (an admin)
    if not config.secret:
        fail("pass --token: tokens come from your identity provider here")
    return mint(config, "tutor-eval", "admin", 3600, ())
