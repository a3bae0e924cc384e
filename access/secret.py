"""The development signing secret: made on first start, kept in DATA_DIR with mode 0600, so
that `make run` works with no identity provider and `tutor token` mints tokens it accepts."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_FILE = Path("auth") / "jwt-secret"


def development_secret(data_dir: Path) -> str:
    path = data_dir / SECRET_FILE
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(48)
    # Created with its final mode (no moment world-readable); a concurrent first start that
    # lost the race reads the winner's secret.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(value)
    return value
