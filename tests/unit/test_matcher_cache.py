"""The matcher's automation cache: trusted while the entity's automations revision stands, and not
trusted for a set read from the index too soon after a change."""

from __future__ import annotations

from mlhooks.matcher import AutomationCache
from mlhooks.store import AutomationsRevision

KEY = ("e", "ADD_ARTIFACT_ALIAS", "ENTITY")
LONG_AGO = 1_000.0  # the revision's last change, in epoch seconds
NOW = 2_000.0


def counting_loader(loads: list):
    def load():
        loads.append(1)
        return []

    return load


def cache(ttl: float = 300, settle: float = 10, monotonic=lambda: 0.0, wall=lambda: NOW) -> AutomationCache:
    return AutomationCache(ttl=ttl, settle=settle, clock=monotonic, wall_clock=wall)


def test_cache_serves_while_the_revision_stands():
    automations, loads = cache(), []
    for _ in range(3):
        automations.get(KEY, AutomationsRevision(7, int(LONG_AGO)), counting_loader(loads))
    assert len(loads) == 1


def test_a_new_revision_is_read_again_at_once():
    automations, loads = cache(), []
    automations.get(KEY, AutomationsRevision(7, int(LONG_AGO)), counting_loader(loads))
    # An automation was disabled: the very next event reads again.
    automations.get(KEY, AutomationsRevision(8, int(LONG_AGO)), counting_loader(loads))
    automations.get(KEY, AutomationsRevision(8, int(LONG_AGO)), counting_loader(loads))
    assert len(loads) == 2


def test_a_set_read_within_the_settle_time_of_a_change_is_not_kept():
    wall = [NOW]
    automations, loads = cache(settle=10, wall=lambda: wall[0]), []
    changed = AutomationsRevision(8, int(NOW))  # the change was just made: the index may lag it
    automations.get(KEY, changed, counting_loader(loads))
    wall[0] = NOW + 9
    automations.get(KEY, changed, counting_loader(loads))
    assert len(loads) == 2
    wall[0] = NOW + 10  # settled: what is read now is kept
    automations.get(KEY, changed, counting_loader(loads))
    automations.get(KEY, changed, counting_loader(loads))
    assert len(loads) == 3


def test_the_lifetime_still_bounds_an_unchanged_revision():
    now = [0.0]
    automations, loads = cache(ttl=30, monotonic=lambda: now[0]), []
    revision = AutomationsRevision(1, int(LONG_AGO))
    automations.get(KEY, revision, counting_loader(loads))
    now[0] = 29.9
    automations.get(KEY, revision, counting_loader(loads))
    now[0] = 30.1
    automations.get(KEY, revision, counting_loader(loads))
    assert len(loads) == 2


def test_cache_keys_are_per_entity_event_type_and_scope():
    automations, loads = cache(), []
    for key in [
        ("a", "X", "ENTITY"),
        ("b", "X", "ENTITY"),
        ("a", "Y", "ENTITY"),
        ("a", "X", "ENTITY", "P#p"),
    ]:
        automations.get(key, AutomationsRevision(1, int(LONG_AGO)), counting_loader(loads))
    assert len(loads) == 4
