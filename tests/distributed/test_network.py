"""Tests for checks/distributed/network.py: the verdict on the name resolution and interfaces a multi-node job uses."""

import pytest

from checks.distributed import network


def facts(addresses=("10.0.0.5",), variables=None, master=None, error=None):
    return network.Network(
        hostname="node7",
        host_addresses=tuple(addresses),
        resolve_error=error,
        interfaces={"lo": "127.0.0.1", "eth0": "10.0.0.5", "ib0": "192.168.1.5"},
        variables=variables or {},
        master=master,
    )


def test_a_name_that_resolves_to_this_node_passes():
    assert network.judge(facts(), multi_host=True).status == "PASS"


@pytest.mark.parametrize("multi_host, status", [(False, "WARN"), (True, "FAIL")])
def test_a_name_that_resolves_to_loopback_only_binds_gloo_to_loopback(multi_host, status):
    """Debian's /etc/hosts maps the host name to 127.0.1.1: gloo's default device takes it (ProcessGroupGloo's
    createDefaultDevice), so other nodes cannot connect; a single-node run still works."""
    result = network.judge(facts(addresses=["127.0.1.1"]), multi_host=multi_host)
    assert result.status == status
    assert "resolves to loopback only (127.0.1.1)" in result.summary
    assert "GLOO_SOCKET_IFNAME" in result.hint and "eth0 10.0.0.5" in result.hint


def test_a_name_that_does_not_resolve_says_why():
    result = network.judge(facts(addresses=(), error="[Errno -2] Name or service not known"), multi_host=True)
    assert result.status == "FAIL" and "does not resolve ([Errno -2] Name or service not known)" in result.summary


def test_gloo_socket_ifname_naming_no_interface_fails_before_gloo_does():
    """gloo's own error for it is `Unable to find address for: eth9` (gloo/transport/tcp/device.cc, as torch 2.13
    prints it)."""
    result = network.judge(facts(variables={"GLOO_SOCKET_IFNAME": "eth9"}), multi_host=False)
    assert result.status == "FAIL" and "eth9" in result.summary and "eth0" in result.hint


@pytest.mark.parametrize(
    "value, ok",
    [("eth", True), ("=eth", False), ("=eth0", True), ("^docker,lo", True), ("enp", False), ("ib,eth", True)],
)
def test_nccl_socket_ifname_is_a_prefix_list_with_exclusion_and_exact_forms(value, ok):
    """NCCL's documented forms: a prefix list, `^` to exclude, `=` for exact names."""
    result = network.judge(facts(variables={"NCCL_SOCKET_IFNAME": value}), multi_host=True)
    assert (result.status == "PASS") == ok, result.summary


def test_a_master_addr_that_does_not_resolve_fails():
    result = network.judge(facts(master=("node0.cluster", "does not resolve: [Errno -2]")), multi_host=True)
    assert result.status == "FAIL" and "MASTER_ADDR=node0.cluster" in result.summary


def test_collect_reads_this_machine_without_failing():
    found = network.collect({})
    assert found.hostname and isinstance(found.interfaces, dict)
