"""`mlhooks`: manage an mlhooks API, local or deployed (automations, executions, webhooks, Slack,
secrets, events, members, keys, ...), and run the local runtime (`dev`, `invoke`, `bootstrap`, ...).

Needs the `cli` extra (`pip install 'mlhooks[cli]'`): Click and Rich, which the Lambda layer does
not carry."""

from __future__ import annotations

import click

from mlhooks import __version__
from mlhooks.cli import local, manage

# `--help` everywhere shows each option's default.
SETTINGS = {"help_option_names": ["-h", "--help"], "show_default": True, "max_content_width": 110}


@click.group(context_settings=SETTINGS)
@click.version_option(__version__, prog_name="mlhooks")
@click.option(
    "--profile",
    envvar="MLHOOKS_PROFILE",
    help="Which saved login to use (`mlhooks login --profile`); MLHOOKS_URL and MLHOOKS_API_KEY override it.",
)
@click.pass_context
def main(context: click.Context, profile: str | None) -> None:
    """mlhooks: automations for ML platforms.

    Exit codes: 0 done; 1 refused (invalid input, a failed test delivery); 2 wrong command line; 3
    not found; 4 conflict (exists, in use, changed meanwhile, or a state that does not allow it); 5
    not allowed (no key, a wrong key, a role that may not); 6 the API unreachable, failing, or not
    an mlhooks API.
    """
    context.obj = {"profile": profile}


for command in (*manage.COMMANDS, *local.COMMANDS):
    main.add_command(command)
