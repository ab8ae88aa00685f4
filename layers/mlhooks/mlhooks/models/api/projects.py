"""Projects, registries and their artifact collections."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from mlhooks.models.base import Input, Output
from mlhooks.models.names import CollectionName, Description, ProjectName


class ProjectCreate(Input):
    name: ProjectName
    registry: bool = Field(False, description="A registry (W&B `wandb-registry-<name>`).")
    description: Description = ""


class ProjectOut(Output):
    name: str
    registry: bool
    description: str
    created_at: str


class CollectionCreate(Input):
    name: CollectionName
    type: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = "model"


class CollectionOut(Output):
    project: str
    name: str
    type: str
    created_at: str
