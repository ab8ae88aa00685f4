"""docs/cost.md is generated: it is exactly what bench/cost_model.py renders from the run it stored
(docs/cost-run.json), and that run priced the template as it stands. Nothing here is timed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cost_model():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("cost_model", ROOT / "bench" / "cost_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored_run() -> dict:
    return json.loads((ROOT / "docs" / "cost-run.json").read_text())


def test_the_cost_document_is_what_the_script_renders_from_its_stored_run() -> None:
    rendered = cost_model().render(stored_run())
    assert (ROOT / "docs" / "cost.md").read_text() == rendered, (
        "docs/cost.md differs from what bench/cost_model.py renders: run `make cost` (or "
        "`.venv/bin/python bench/cost_model.py --render` after a change to the prices or the page)"
    )


def test_the_stored_run_priced_the_template_as_it_stands(template) -> None:
    from mlhooks.local.template import functions

    run = stored_run()
    shared = template["Globals"]["Function"]
    assert run["architecture"] == shared["Architectures"][0]
    memory = {
        name: props.get("MemorySize", shared["MemorySize"]) for name, props in functions(template).items()
    }
    assert run["memory"] == memory, "the functions' memory changed since the run: run `make cost`"


def test_every_priced_scenario_made_the_calls_it_is_priced_by() -> None:
    scenarios = stored_run()["scenarios"]
    for kind in ("webhook", "slack", "job"):
        assert scenarios[f"{kind}/matcher"]["warm"]["write_units"] > 0  # the execution, written
        assert scenarios[f"{kind}/sender"]["warm"]["write_units"] > 0  # the attempt, recorded
    assert scenarios["none/matcher"]["warm"]["read_units"] > 0
    assert scenarios["publish/api"]["warm"]["events_put"] == cost_model().EVENTS_PER_PUBLISH
