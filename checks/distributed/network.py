"""dist's network facts and their verdict: the name resolution and interfaces a multi-node job uses, judged even when
dist starts its ranks on 127.0.0.1 itself (a job launched by torchrun across nodes meets them).

Rules and their sources:
- gloo's default device (ProcessGroupGloo::createDefaultDevice, torch/csrc/distributed/c10d/ProcessGroupGloo.cpp)
  resolves this host's name and binds to that address; when the name does not resolve to a usable local address it
  falls back to the loopback address with the warning "Unable to resolve hostname to a (local) address. Using the
  loopback address as fallback. Manually set the network interface to bind to with GLOO_SOCKET_IFNAME." A rank
  bound to loopback cannot be reached from another node.
- GLOO_SOCKET_IFNAME names interfaces (comma-separated); NCCL_SOCKET_IFNAME is a prefix list, `^` excludes and `=`
  asks for exact names (NCCL's environment variables documentation). A name no interface has makes the
  backend fail at init.
"""

import dataclasses
import socket
from typing import Dict, Optional, Tuple

from checks.machine import system, variables
from checks.report import FAIL, PASS, WARN, Result


@dataclasses.dataclass(frozen=True)
class Network:
    """hostname; host_addresses: what it resolves to (empty: it does not; resolve_error says why); interfaces: name ->
    IPv4 address (None for one without); variables: the *_SOCKET_IFNAME values set; master: (MASTER_ADDR, its
    addresses or the error) when set."""

    hostname: str
    host_addresses: Tuple[str, ...]
    resolve_error: Optional[str]
    interfaces: Dict[str, Optional[str]]
    variables: Dict[str, str]
    master: Optional[Tuple[str, str]]


def collect(environ):
    """Return the Network facts (one bounded host-name lookup, and one for MASTER_ADDR when it is a name)."""
    name, addresses, error = system.resolve_host()
    master = None
    addr = environ.get("MASTER_ADDR")
    if addr:
        try:
            master = (addr, ", ".join(sorted({i[4][0] for i in socket.getaddrinfo(addr, None)})))
        except (OSError, UnicodeError) as exc:
            master = (addr, "does not resolve: %s" % exc)
    variables = {
        k: environ[k] for k in ("GLOO_SOCKET_IFNAME", "NCCL_SOCKET_IFNAME", "TP_SOCKET_IFNAME") if environ.get(k)
    }
    return Network(name, addresses, error, system.interfaces(), variables, master)


def judge(net, multi_host):
    """Return the `network` Result: FAIL for an interface variable naming no interface, or a host name that does not
    resolve in a job across hosts; WARN when a job across nodes would bind gloo to loopback."""
    names = sorted(net.interfaces)
    for variable, value in net.variables.items():
        missing = variables.unknown_interfaces(variable, value, names)
        if missing:
            return Result(
                name="network",
                status=FAIL,
                summary="%s=%s names no interface of this host (%s)" % (variable, value, ", ".join(missing)),
                expected="one of %s" % ", ".join(names),
                actual=value,
                hint="set %s to this node's interface (one of %s), or unset it" % (variable, ", ".join(names)),
                data={"fact": "interfaces: %s" % ", ".join(names)},
            )
    if net.master and net.master[1].startswith("does not resolve"):
        return Result(
            name="network",
            status=FAIL,
            summary="MASTER_ADDR=%s %s" % net.master,
            hint="set MASTER_ADDR to rank 0's address or a name every node resolves",
            data={"fact": "MASTER_ADDR %s" % net.master[1]},
        )
    routable = [a for a in net.host_addresses if not a.startswith("127.") and a != "::1"]
    if not routable and "GLOO_SOCKET_IFNAME" not in net.variables:
        how = (
            "does not resolve (%s)" % net.resolve_error
            if not net.host_addresses
            else "resolves to loopback only (%s)" % ", ".join(net.host_addresses)
        )
        outward = ["%s %s" % (n, a) for n, a in sorted(net.interfaces.items()) if a and not a.startswith("127.")]
        return Result(
            name="network",
            status=FAIL if multi_host else WARN,
            summary="this host's name %r %s: gloo binds to loopback, so ranks on other nodes cannot reach this one%s"
            % (net.hostname, how, "" if multi_host else " (this single-node run is not affected)"),
            expected="a name that resolves to this node's network address",
            actual=", ".join(net.host_addresses) or "no address",
            hint=(
                "map the name to this node's address in /etc/hosts (`%s %s`), or set GLOO_SOCKET_IFNAME to the "
                "interface other nodes reach" % (outward[0].split()[1] if outward else "<address>", net.hostname)
                if not net.host_addresses
                else "set GLOO_SOCKET_IFNAME (and NCCL_SOCKET_IFNAME) to the interface other nodes reach%s, or map "
                "the name to that address in /etc/hosts" % (" (%s)" % ", ".join(outward) if outward else "")
            ),
            data={"fact": "getaddrinfo(%r): %s" % (net.hostname, ", ".join(net.host_addresses) or net.resolve_error)},
        )
    return Result(
        name="network",
        status=PASS,
        summary="host %s resolves to %s; interfaces %s"
        % (net.hostname, ", ".join(net.host_addresses), ", ".join(names) or "none listed"),
    )
