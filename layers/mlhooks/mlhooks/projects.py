"""Projects (registries are projects flagged `registry`) and their artifact collections: what
automation scopes point at."""

from __future__ import annotations

from typing import Any

from mlhooks.clock import now_iso
from mlhooks.errors import NotFound
from mlhooks.models.records import CollectionRecord, ProjectRecord
from mlhooks.store import Store


class ProjectService:
    def __init__(self, store: Store):
        self.store = store

    def create(self, entity: str, fields: dict[str, Any]) -> ProjectRecord:
        record = ProjectRecord(entity=entity, created_at=now_iso(), **fields)
        self.store.create_project(record)
        return record

    def get(self, entity: str, name: str) -> ProjectRecord:
        record = self.store.get_project(entity, name)
        if record is None:
            raise NotFound(f"No project {name}.")
        return record

    def list(
        self, entity: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[ProjectRecord], str | None]:
        return self.store.list_projects(entity, limit, token)

    def create_collection(self, entity: str, project: str, fields: dict[str, Any]) -> CollectionRecord:
        self.get(entity, project)
        record = CollectionRecord(entity=entity, project=project, created_at=now_iso(), **fields)
        self.store.create_collection(record)
        return record

    def list_collections(
        self, entity: str, project: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[CollectionRecord], str | None]:
        self.get(entity, project)
        return self.store.list_collections(entity, project, limit, token)
