"""The matcher's automation cache: trusted for its lifetime, then read again."""

from __future__ import annotations

from mlhooks.matcher import AutomationCache


def test_cache_serves_until_its_lifetime_passes():
    now = [0.0]
    cache = AutomationCache(ttl=30, clock=lambda: now[0])
    loads = []

    def load():
        loads.append(now[0])
        return []

    cache.get(("e", "ADD_ARTIFACT_ALIAS", "ENTITY"), load)
    now[0] = 29.9
    cache.get(("e", "ADD_ARTIFACT_ALIAS", "ENTITY"), load)
    assert loads == [0.0]
    now[0] = 30.1  # a disabled automation stops firing from here on
    cache.get(("e", "ADD_ARTIFACT_ALIAS", "ENTITY"), load)
    assert loads == [0.0, 30.1]


def test_cache_keys_are_per_entity_event_type_and_scope():
    cache = AutomationCache(ttl=30, clock=lambda: 0.0)
    loads = []
    for key in [
        ("a", "X", "ENTITY"),
        ("b", "X", "ENTITY"),
        ("a", "Y", "ENTITY"),
        ("a", "X", "ENTITY", "P#p"),
    ]:
        cache.get(key, lambda key=key: loads.append(key) or [])
    assert len(loads) == 4
