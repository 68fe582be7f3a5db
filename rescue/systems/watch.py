"""Where a PoC's call goes on the network, seen through Python's audit hooks (PEP 578).

Every name the PoC's code resolves (``socket.getaddrinfo``) and every address it connects to
(``socket.connect``) raises an audit event, whatever library sends the request (httpx, requests, urllib3,
an SDK's own client, a raw socket). :class:`Watch` turns the events of one call into its destinations: host,
port, the addresses it connected to, how many connections, and whether it stays on this machine. Nothing is
patched, no payload is read.

Standard library only: the PoC's own interpreter (``poc.python``) runs this module too.
"""

from __future__ import annotations

import ipaddress
import sys
import threading
from typing import Any

_LOCAL = threading.local()
_INSTALLED = False
_LOCK = threading.Lock()


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine."""
    if host in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    calls = getattr(_LOCAL, "events", None)
    if calls is None:  # no call is watched on this thread
        return
    if event == "socket.getaddrinfo" and args and args[0]:
        host = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
        port = args[1] if len(args) > 1 else None
        _LOCAL.resolved = (host, str(port))  # the name the next connection to this port was resolved from
        calls.append(("resolve", host, port))
    elif event == "socket.connect" and len(args) > 1:
        address = args[1]
        if isinstance(address, tuple) and len(address) >= 2:
            ip, port = str(address[0]), address[1]
            name, name_port = _LOCAL.resolved or (None, None)
            host = name if name and name_port == str(port) else ip
            calls.append(("connect", host, port, ip))
        elif isinstance(address, str | bytes):  # a Unix socket: on this machine
            calls.append(("connect", "unix socket", None, str(address)))


def install() -> None:
    """Add the audit hook once per process (a hook cannot be removed; while no call is watched it does nothing)."""
    global _INSTALLED
    with _LOCK:
        if not _INSTALLED:
            sys.addaudithook(_hook)
            _INSTALLED = True


class Watch:
    """The destinations of one call on this thread: ``with Watch() as w: ...; w.destinations``."""

    def __init__(self) -> None:
        install()
        self.destinations: list[dict[str, Any]] = []

    def __enter__(self) -> Watch:
        _LOCAL.events, _LOCAL.resolved = [], None
        return self

    def __exit__(self, *exc: object) -> None:
        events = getattr(_LOCAL, "events", None) or []
        _LOCAL.events = None
        self.destinations = destinations(events)


def destinations(events: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Connections grouped by (host, port): the addresses reached and how many times; names resolved but never
    connected to are kept with ``connections: 0`` (a lookup leaks the name even when no connection follows)."""
    found: dict[tuple[str, Any], dict[str, Any]] = {}
    for event in events:
        if event[0] == "connect":
            _, host, port, ip = event
            entry = found.setdefault((host, port), {"host": host, "port": port, "addresses": [], "connections": 0,
                                                    "loopback": host == "unix socket" or is_loopback(host) or is_loopback(ip)})  # fmt: skip
            entry["connections"] += 1
            if ip not in entry["addresses"]:
                entry["addresses"].append(ip)
    for event in events:
        if event[0] == "resolve":
            _, host, port = event
            if not any(h == host for h, _ in found):
                found[(host, port)] = {"host": host, "port": port, "addresses": [], "connections": 0,
                                       "loopback": is_loopback(host)}  # fmt: skip
    return sorted(found.values(), key=lambda d: (d["loopback"], str(d["host"]), str(d["port"])))
