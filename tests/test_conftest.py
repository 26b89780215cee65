"""tests/conftest.py's collection order: with --runslow the slow tests run first (pytest-xdist starts them at
once instead of last); without it they are skipped where they stand."""

from types import SimpleNamespace

import conftest


class Item:
    def __init__(self, name, *keywords):
        self.name, self.keywords, self.markers = name, set(keywords), []

    def add_marker(self, marker):
        self.markers.append(marker)


def config(runslow):
    return SimpleNamespace(getoption=lambda name: runslow if name == "--runslow" else None)


def test_with_runslow_the_slow_tests_come_first_and_the_rest_keep_their_order():
    items = [Item("a"), Item("compile-train", "slow"), Item("b"), Item("compile-verify", "slow"), Item("c")]
    conftest.pytest_collection_modifyitems(config(True), items)
    assert [i.name for i in items] == ["compile-train", "compile-verify", "a", "b", "c"]
    assert not any(i.markers for i in items)


def test_without_runslow_the_slow_tests_are_skipped_in_place():
    items = [Item("a"), Item("compile-train", "slow"), Item("b")]
    conftest.pytest_collection_modifyitems(config(False), items)
    assert [i.name for i in items] == ["a", "compile-train", "b"]
    assert [bool(i.markers) for i in items] == [False, True, False]
