"""What a command says before it works: which data folder and database it uses (so a command run
from the wrong place, or as the wrong user, cannot quietly use another database), and which
``NAGOVORI_`` variables it ignores because no setting has that name."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from dotenv import dotenv_values

from cli.database import masked_url
from core.settings import Settings, data_dir_origin, misspelled_variables

log = logging.getLogger("nagovori")


def announce(settings: Settings) -> None:
    """One INFO line: the data folder (and why that one) and the database, without its password."""
    log.info(
        "data folder %s (%s); database %s",
        settings.data_dir.resolve(),
        data_dir_origin(settings),
        masked_url(settings.effective_database_url),
    )


def warn_misspelled(environment: Iterable[str], dotenv: Path = Path(".env")) -> None:
    """One warning per ``NAGOVORI_`` name in the environment or ``.env`` that no setting reads."""
    names = set(environment)
    if dotenv.is_file():
        names |= set(dotenv_values(dotenv))
    for name, closest in misspelled_variables(names):
        hint = f"did you mean {closest}?" if closest else "see .env.example for the settings"
        log.warning("%s is not a Nagovori setting and is ignored; %s", name, hint)
