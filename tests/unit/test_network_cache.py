"""A network read from files is kept between starts, and used only while everything the load read
is as it was: the files named, the files they lead to, the folders listed."""

from __future__ import annotations

import pytest

from bots import network_cache
from bots.network_cache import load_network_cached

NETWORK = """\
scis: 1
participants:
  - {id: bob, name: Bob, roles: [supplier]}
items:
  - {id: leg, name: Leg}
offers:
  - {id: bob-legs, supplier: bob, item: leg, price: 2.5}
"""


@pytest.fixture
def environ(tmp_path) -> dict[str, str]:
    return {"SCIS_CACHE_DIR": str(tmp_path / "cache")}


@pytest.fixture
def from_cache_only(monkeypatch):
    """After this, a load that is not served from the cache fails the test."""

    def no_loading(paths):
        raise AssertionError(f"loaded {paths} again instead of from the cache")

    return lambda: monkeypatch.setattr(network_cache, "load_network", no_loading)


def test_the_second_load_of_the_same_files_is_the_same_network_from_the_cache(
    tmp_path, environ, from_cache_only
):
    path = tmp_path / "net.yaml"
    path.write_text(NETWORK + "  - {id: bob-seat, supplier: bob, item: seat}\n")
    first = load_network_cached([path], environ)
    from_cache_only()
    again = load_network_cached([path], environ)
    assert again.network == first.network and "leg" in again.network.items
    # The diagnostics come back as they were said, with file and line.
    assert again.diagnostics == first.diagnostics
    [unknown] = [d for d in again.diagnostics if "seat" in d.message]
    assert (unknown.file, unknown.line) == (str(path), 8)
    assert again.named_files == first.named_files


def test_a_changed_file_is_read_again(tmp_path, environ):
    path = tmp_path / "net.yaml"
    path.write_text(NETWORK)
    assert load_network_cached([path], environ).network.offers["bob-legs"].price == 2.5
    path.write_text(NETWORK.replace("price: 2.5", "price: 3"))
    assert load_network_cached([path], environ).network.offers["bob-legs"].price == 3


def test_a_file_the_load_read_without_being_named_counts_too(tmp_path, environ):
    folder = tmp_path / "lamp"
    folder.mkdir()
    manifest = folder / "okh.toml"
    manifest.write_text('name = "Lamp"\nrepo = "https://github.com/o/lamp"\nbom = "bom.csv"\n')
    (folder / "bom.csv").write_text("Part,Qty\nLED,3\n")
    design = "okh:github.com/o/lamp"
    assert dict(load_network_cached([manifest], environ).network.designs[design].inputs) == {
        "led": 3
    }
    (folder / "bom.csv").write_text("Part,Qty\nLED,4\n")
    assert dict(load_network_cached([manifest], environ).network.designs[design].inputs) == {
        "led": 4
    }


def test_a_file_added_to_a_named_folder_is_read(tmp_path, environ):
    folder = tmp_path / "networks"
    folder.mkdir()
    (folder / "a.yaml").write_text(NETWORK)
    assert "seat" not in load_network_cached([folder], environ).network.items
    (folder / "b.yaml").write_text("scis: 1\nitems:\n  - {id: seat, name: Seat}\n")
    assert "seat" in load_network_cached([folder], environ).network.items


def test_a_corrupt_entry_is_read_again_and_rewritten(tmp_path, environ, from_cache_only):
    path = tmp_path / "net.yaml"
    path.write_text(NETWORK)
    expected = load_network_cached([path], environ).network
    [entry] = (tmp_path / "cache" / "networks").iterdir()
    entry.write_bytes(b"\x80\x05 not a pickle")
    assert load_network_cached([path], environ).network == expected
    from_cache_only()  # rewritten: the next start is served from it
    assert load_network_cached([path], environ).network == expected


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path):
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache directory would be")
    path = tmp_path / "net.yaml"
    path.write_text(NETWORK)
    result = load_network_cached([path], {"SCIS_CACHE_DIR": str(blocked)})
    assert result.errors == [] and "leg" in result.network.items


def test_the_cache_directory_follows_the_setting_then_xdg():
    assert network_cache.cache_directory({"SCIS_CACHE_DIR": "/srv/c"}).as_posix() == "/srv/c"
    assert network_cache.cache_directory({"XDG_CACHE_HOME": "/x"}).as_posix() == "/x/scis"


def test_only_the_most_recently_used_networks_are_kept(tmp_path, environ, monkeypatch):
    monkeypatch.setattr(network_cache, "KEEP_ENTRIES", 2)
    paths = []
    for name in ("a", "b", "c"):
        paths.append(tmp_path / f"{name}.yaml")
        paths[-1].write_text(NETWORK)
        load_network_cached([paths[-1]], environ)
    assert len(list((tmp_path / "cache" / "networks").glob("*.pickle"))) == 2
