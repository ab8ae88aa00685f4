"""What the command line prints is what was sent: users' text is never read as Rich markup or emoji
codes; and the API's URL is taken however a person copies it."""

from __future__ import annotations

import pytest

from mlhooks.cli import output
from mlhooks.client.config import NotConfigured, api_root

TRICKY = "weird [/] [bold]name[/bold] :thumbsup: :information_source:"


def test_records_tables_and_messages_print_users_text_as_it_is(capsys) -> None:
    output.record({"name": TRICKY, "payload": {"a": TRICKY}}, False)
    output.table([{"name": TRICKY}], [("NAME", lambda row: row["name"])], False)
    output.done(f"Created automation {TRICKY}.", False)
    printed = capsys.readouterr().out
    # The name and the payload (as compact JSON) of the record, the table's cell, the message.
    assert printed.count(TRICKY) == 4 and "👍" not in printed


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        ("http://127.0.0.1:3000/v1", "http://127.0.0.1:3000"),
        (
            "https://abc.execute-api.us-east-1.amazonaws.com/Prod/v1/",
            "https://abc.execute-api.us-east-1.amazonaws.com/Prod",
        ),
        (" https://api.example/Prod/ ", "https://api.example/Prod"),
    ],
)
def test_the_api_url_is_taken_as_make_dev_prints_it_or_without_v1(given, root) -> None:
    assert api_root(given) == root


def test_a_url_without_its_scheme_says_how_to_write_it() -> None:
    with pytest.raises(NotConfigured, match="give it whole"):
        api_root("127.0.0.1:3000")


def test_an_edit_that_does_not_read_reopens_the_editor_on_what_was_written(tmp_path, monkeypatch) -> None:
    """$EDITOR is a real program here: the first time it leaves a typo, the second time it fixes it."""
    from mlhooks.cli import manage

    editor = tmp_path / "editor.sh"
    seen = tmp_path / "seen"
    editor.write_text(
        "#!/bin/sh\n"
        f'cat "$1" >> {seen}\n'
        f'if [ -e {tmp_path}/once ]; then echo \'{{"description": "fixed"}}\' > "$1"; '
        f'else touch {tmp_path}/once; echo \'{{"description": "typo",}}\' > "$1"; fi\n'
    )
    editor.chmod(0o700)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.setattr("click.confirm", lambda *_, **__: True)
    assert manage._edit_json('{"description": ""}\n') == {"description": "fixed"}
    assert '"typo",' in seen.read_text()  # the second edit began from the first one's text
