"""Projects (registries are projects flagged `registry`) and their artifact collections."""

from __future__ import annotations

from mlhooks.errors import Conflict, NotFound
from mlhooks.models.records import CollectionRecord, ProjectRecord
from mlhooks.store import keys
from mlhooks.store.table import TableStore


class ProjectStore(TableStore):
    """Projects and artifact collections: what automations are scoped to."""

    def create_project(self, record: ProjectRecord) -> None:
        self._transact(
            [
                (
                    self._put(
                        self._item(record.entity, keys.project(record.name), record),
                        "attribute_not_exists(PK)",
                    ),
                    Conflict(f"A project named {record.name} exists.", field="name"),
                )
            ]
        )

    def get_project(self, entity: str, name: str) -> ProjectRecord | None:
        return self._get(entity, keys.project(name), ProjectRecord)

    def list_projects(
        self, entity: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[ProjectRecord], str | None]:
        return self._page(entity, keys.PROJECTS, ProjectRecord, limit, token)

    def create_collection(self, record: CollectionRecord) -> None:
        self._transact(
            [
                (
                    self._check(
                        keys.item(record.entity, keys.project(record.project)), "attribute_exists(PK)"
                    ),
                    NotFound(f"No project {record.project}."),
                ),
                (
                    self._put(
                        self._item(record.entity, keys.collection(record.project, record.name), record),
                        "attribute_not_exists(PK)",
                    ),
                    Conflict(f"A collection named {record.name} exists in {record.project}.", field="name"),
                ),
            ]
        )

    def get_collection(self, entity: str, project: str, name: str) -> CollectionRecord | None:
        return self._get(entity, keys.collection(project, name), CollectionRecord)

    def list_collections(
        self, entity: str, project: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[CollectionRecord], str | None]:
        return self._page(entity, keys.collections(project), CollectionRecord, limit, token)
