"""A local Ray started by nasx: loopback only, token authentication, nothing left in the environment.

Checked from the OS, not from Ray's own view: /proc/net/tcp and tcp6 give the listening sockets and
their inodes, /proc/PID/fd maps the inodes to processes, /proc/PID/stat gives the process tree.
The driver is a separate process; every process it starts (gcs_server, raylet, agents, workers),
and every process holding this Ray's token, is inspected while a trial runs.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from exec_helpers import fake_run, worker_env

from nasx.execute.options import missing_dashboard_modules

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")]

LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp*
# The driver: trains a fake run on a fresh local Ray, then reports what it left in os.environ.
DRIVER = """
import json, os, sys
import ray  # importing ray sets RAY_CLIENT_MODE; what a Ray session sets is what is checked
from nasx.execute import ExecOptions, train_run
from nasx.store import RunStore
run, scratch, sleep, dashboard = sys.argv[1:5]
before = dict(os.environ)
opts = ExecOptions(executor="ray", progress=False, dashboard=dashboard == "1",
                   overrides={"data_dir": scratch, "lr": float(sleep)})
with RunStore.open(run) as store:
    counts = train_run(store, opts, trial_fn="exec_fakes:ok_trial")
changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))
print(json.dumps({"counts": counts, "env_changed": changed, "ray_up": ray.is_initialized()}))
"""


def _hex_ip(text: str) -> str:
    """An address of /proc/net/tcp*: 32-bit words in host (little-endian) order."""
    raw = bytes.fromhex(text)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def listening_inodes() -> dict[int, tuple[str, int]]:
    """inode -> (ip, port) of every listening TCP socket of this network namespace."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == LISTEN:
                ip, port = cols[1].split(":")
                found[int(cols[9])] = (_hex_ip(ip), int(port, 16))
    return found


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets process ``pid`` holds open."""
    out = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:  # gone, or not ours
        return out
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(int(target[8:-1]))
    return out


def parents() -> dict[int, int]:
    """pid -> parent pid of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            out[int(d)] = int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces
    return out


def descendants(root: int) -> set[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents().items():
        children.setdefault(ppid, []).append(pid)
    out, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in out:
            out.add(pid)
            todo.extend(children.get(pid, []))
    return out


def environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(kv.split("=", 1) for kv in raw.decode(errors="replace").split("\0") if "=" in kv)


def holding_token(token: str) -> set[int]:
    """Processes whose environment carries this Ray's token (its session, wherever it runs)."""
    return {int(d) for d in os.listdir("/proc")
            if d.isdigit() and environ(int(d)).get("RAY_AUTH_TOKEN") == token}


def name(pid: int) -> str:
    """The process name; for Python, with its script ("python:dashboard.py")."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    scripts = [a for a in args[1:] if a.endswith(b".py")]
    return f"{comm}:{Path(scripts[0].decode()).name}" if comm == "python" and scripts else comm


def is_loopback(ip: str) -> bool:
    addr = ipaddress.ip_address(ip)
    mapped = getattr(addr, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return addr.is_loopback or (mapped is not None and mapped.is_loopback)


def test_hex_ip_decodes_proc_net_tcp():
    assert _hex_ip("0100007F") == "127.0.0.1"
    assert _hex_ip("00000000") == "0.0.0.0"
    assert _hex_ip("00000000000000000000000001000000") == "::1"
    mapped = ipaddress.ip_address(_hex_ip("0000000000000000FFFF00000100007F"))
    assert mapped == ipaddress.ip_address("::ffff:127.0.0.1")
    assert is_loopback("::ffff:127.0.0.1") and is_loopback("::1")
    assert not is_loopback("::") and not is_loopback("0.0.0.0") and not is_loopback("192.0.2.2")


@pytest.mark.parametrize("dashboard", [
    False,
    pytest.param(True, marks=pytest.mark.skipif(
        bool(missing_dashboard_modules()), reason='needs pip install "ray[default]"')),
])
def test_local_ray_listens_on_loopback_only_with_token_auth(tmp_path, scratch, dashboard):
    from nasx.execute import ExecOptions
    from nasx.execute.ray_session import ray_session

    fake_run(tmp_path / "run", 2).close()
    home = tmp_path / "home"  # where Ray's default would write ~/.ray/auth_token
    home.mkdir()
    env = worker_env()
    env["HOME"] = str(home)
    for var in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH",
                "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"):
        env.pop(var, None)
    sockets: dict[tuple[int, str, int], str] = {}  # (pid, ip, port) -> process name
    token_env: dict[str, str] = {}
    trial_seen = False
    # Another Ray runs on this machine meanwhile: the driver must start its own, not join it
    # (ray.init without an address joins any gcs_server it finds running).
    with ray_session(ExecOptions(executor="ray", progress=False)):
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path / "run"),
                                 str(scratch), "2.0", str(int(dashboard))], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.monotonic() + 180
        # Sample until the driver is done: trials sleep 2 s, so workers are seen while they live.
        while proc.poll() is None:
            assert time.monotonic() < deadline, "driver made no progress"
            pids = descendants(proc.pid)
            gcs = [p for p in pids if name(p) == "gcs_server"]
            if gcs and not token_env:
                token_env = {k: v for k, v in environ(gcs[0]).items() if k.startswith("RAY_AUTH")}
            if token_env.get("RAY_AUTH_TOKEN"):
                pids |= holding_token(token_env["RAY_AUTH_TOKEN"])
            inodes = listening_inodes()
            for pid in pids:
                for inode in socket_inodes(pid) & inodes.keys():
                    ip, port = inodes[inode]
                    sockets[(pid, ip, port)] = name(pid)
            trial_seen = trial_seen or (scratch / "events.log").exists()
            time.sleep(0.1)
        out, err = proc.communicate()
    assert proc.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["counts"]["done"] == 2 and trial_seen

    names = set(sockets.values())
    # Not vacuous: the driver's own servers and at least one worker were seen listening.
    assert {"gcs_server", "raylet"} <= names, sockets
    assert any(n.startswith("ray::") for n in names), sockets
    if dashboard:  # the dashboard's server is among them
        assert "python:dashboard.py" in names, sockets
    exposed = {k: v for k, v in sockets.items() if not is_loopback(k[1])}
    assert not exposed, f"listening beyond loopback: {exposed}"

    # Token authentication, with a token that lives only in this Ray's environment.
    assert token_env.get("RAY_AUTH_MODE") == "token" and len(token_env["RAY_AUTH_TOKEN"]) >= 32
    assert not (home / ".ray").exists()
    # And nothing of it (nor of ray.init) is left in the driver's environment afterwards.
    assert report["env_changed"] == [] and report["ray_up"] is False


def test_dashboard_without_its_packages_fails_fast(tmp_path, monkeypatch, capsys):
    from nasx.cli.main import main
    from nasx.execute import options

    monkeypatch.setattr(options, "DASHBOARD_MODULES", ("aiohttp", "no_such_module_nasx"))
    space = Path(__file__).resolve().parents[2] / "spaces" / "regnet_digits.yaml"
    out = tmp_path / "run"
    assert main(["run", str(space), "--n", "2", "--out", str(out), "--dashboard",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no_such_module_nasx" in err
    assert 'pip install "ray[default]"' in err
    assert not out.exists()  # failed before sampling anything


def test_dashboard_checked_again_with_rays_own_test(monkeypatch):
    """Ray's import test is authoritative: a package missing from nasx's list still gives one line,
    before Ray starts, with the environment as it was."""
    import ray
    import ray._private.utils

    from nasx.errors import TrainError
    from nasx.execute import options
    from nasx.execute.ray_session import ray_session

    monkeypatch.setattr(options, "DASHBOARD_MODULES", ())
    monkeypatch.setattr(ray._private.utils, "get_dashboard_dependency_error",
                        lambda: ModuleNotFoundError("No module named 'aiohttp'"))
    opts = options.ExecOptions(executor="ray", dashboard=True, progress=False)
    assert not ray.is_initialized()
    before = dict(os.environ)
    with pytest.raises(TrainError, match=r"aiohttp.*pip install \"ray\[default\]\""), \
            ray_session(opts):
        pass
    assert not ray.is_initialized() and dict(os.environ) == before
