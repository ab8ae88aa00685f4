"""Run condition state: what each run automation remembers about each run (conditions.py).

Bounded per (automation, run), written only if still at the version read, and expired by the
table's TTL three days after the run goes quiet (runs.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from mlhooks.errors import Conflict
from mlhooks.store import keys
from mlhooks.store.table import Op, TableStore


class RunStateStore(TableStore):
    """Run condition states, read in batches and written all or nothing."""

    def get_run_states(
        self, entity: str, run_key: str, automation_ids: Sequence[str]
    ) -> dict[str, tuple[str, int]]:
        """automation id -> (state document, version) for one run, in batches of 100 (BatchGetItem)."""
        found: dict[str, tuple[str, int]] = {}
        wanted = [keys.run_state(entity, a, run_key) for a in dict.fromkeys(automation_ids)]
        for start in range(0, len(wanted), 100):
            request = {self.table.name: {"Keys": wanted[start : start + 100], "ConsistentRead": True}}
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self.table.name, []):
                    found[keys.run_state_automation(item["PK"])] = (item["doc"], int(item["version"]))
                request = answer.get("UnprocessedKeys") or {}
        return found

    def put_run_states(
        self, entity: str, run_key: str, states: Sequence[tuple[str, str, int]], expires_at: int
    ) -> bool:
        """Write (automation id, document, expected version) all or nothing, each only if still at
        its expected version (0: new). False when another matcher got there first: re-read, retry."""
        for start in range(0, len(states), 100):  # TransactWriteItems' limit
            ops: list[Op] = []
            for automation_id, doc, expected in states[start : start + 100]:
                item = {
                    **keys.run_state(entity, automation_id, run_key),
                    "doc": doc,
                    "version": expected + 1,
                    "expires_at": expires_at,
                }
                condition = "attribute_not_exists(PK)" if expected == 0 else "version = :v"
                ops.append((self._put(item, condition, {":v": expected} if expected else None), None))
            try:
                self._transact(ops)
            except Conflict:
                return False
        return True
