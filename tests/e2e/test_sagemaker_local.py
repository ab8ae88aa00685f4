"""The README's SageMaker walk-through against `mlhooks dev`: a SageMaker source, the samples put on
the local default bus with `mlhooks publish`, and the deliveries the source records."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from commands import mlhooks
from waiting import eventually

pytestmark = pytest.mark.e2e


def test_the_sagemaker_samples_published_locally_reach_a_sagemaker_source(
    local_runtime: dict[str, Any], http: requests.Session
) -> None:
    api = f"{local_runtime['api_url']}/v1/entities/{local_runtime['entity']}"
    body = {"name": "sagemaker", "kind": "sagemaker", "account": "123456789012", "region": "us-east-1"}
    created = http.post(f"{api}/sources", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["setup"]["eventbridge_rule"]["enabled"] is True
    try:
        published = mlhooks(
            local_runtime["state_file"],
            "publish",
            "events/sagemaker-model-package-approved.json",
            "events/sagemaker-training-job-failed.json",
        )
        assert published.returncode == 0 and published.stdout.count("published") == 2, published.stderr

        def both() -> list[dict[str, Any]] | None:
            items = http.get(f"{api}/sources/sagemaker/deliveries").json()["items"]
            return items if len(items) == 2 else None

        delivered = {d["platform_event"]: d for d in eventually(both, timeout=30, what="2 deliveries")}
        package = delivered["SageMaker Model Package State Change"]
        assert package["outcome"] == "accepted"
        assert [e["detail_type"] for e in package["events"]] == ["Artifact Linked", "Artifact Alias Added"]
        job = delivered["SageMaker Training Job State Change"]
        assert job["outcome"] == "accepted" and job["events"][0]["project"] == "training"
    finally:
        http.delete(f"{api}/sources/sagemaker")  # the account and region are one source's at a time
