"""ConsoleFunction: the web console's files (mlhooks.console), from this function's own folder."""

from pathlib import Path

from mlhooks.console import respond

STATIC = Path(__file__).parent / "static"


def lambda_handler(event: dict, context: object) -> dict:
    return respond(event, STATIC)
