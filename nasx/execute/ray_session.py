"""Ray for nasx: join a cluster, or start a private local Ray on loopback with token auth.

A local Ray started here listens on 127.0.0.1 only and authenticates with a token made for the
run, held only in the environment of the processes it starts; everything set for it (by nasx or
by ``ray.init``) is undone when it ends. Two private Ray 2.60 internals are used (guarded): the
"single machine" switch that keeps a loopback node address, and the cached auth state.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import ray

from nasx.errors import TrainError
from nasx.execute.options import DASHBOARD_INSTALL, ExecOptions
from nasx.types import Scalar


@contextmanager
def scoped_env(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) environment variables only for the duration of the block.

    Ray and Tune read their switches from the environment, and the Ray processes we start inherit
    it; the caller's environment is as it was afterwards.
    """
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def _restored_environ() -> Iterator[None]:
    """Undo every change to ``os.environ`` made while the block runs (by us or by ray.init)."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for k in set(os.environ) - set(saved):
            del os.environ[k]
        for k, v in saved.items():
            if os.environ.get(k) != v:
                os.environ[k] = v


def _token_auth_supported() -> bool:
    """Whether the installed Ray has token authentication (Ray >= 2.52)."""
    try:
        from ray._private.authentication import authentication_token_setup  # noqa: F401
        from ray._raylet import AuthenticationTokenLoader, Config  # noqa: F401
    except ImportError:
        return False
    return True


def _refresh_auth_state() -> None:
    """Make this process re-read RAY_AUTH_MODE / RAY_AUTH_TOKEN (Ray caches both in C++).

    Config first, then the token cache: the order of Ray's own test helper, so that a core-worker
    thread still draining never sees token mode without a token.
    """
    if not _token_auth_supported():
        return
    from ray._raylet import AuthenticationTokenLoader, Config

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


def loopback_env(token: str | None) -> dict[str, str | None]:
    """Environment of a private local Ray: every service on 127.0.0.1, token authentication.

    - ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``: Ray processes that resolve "this node's address"
      themselves take the loopback address instead of the machine's outward one;
    - ``RAY_AUTH_MODE=token`` with a fresh random ``RAY_AUTH_TOKEN``: the token lives only in the
      environment of this Ray's processes (Ray's own default would write ``~/.ray/auth_token``);
    - ``RAY_AUTH_TOKEN_PATH`` unset, since the token variable is what this Ray must use.
    """
    env: dict[str, str | None] = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    if token is not None:
        env.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token,
                    "RAY_AUTH_TOKEN_PATH": None})
    return env


@contextmanager
def _loopback_node() -> Iterator[None]:
    """Keep ``_node_ip_address="127.0.0.1"`` as the node address while a local Ray starts.

    ray.init rewrites a loopback node address into the machine's outward IP (and the servers then
    bind every interface) unless Ray's "single machine" switch is on; the switch is read from this
    module attribute at call time (its environment variable only at import, long past here).
    """
    from ray._private import ray_constants

    saved = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved


@contextmanager
def ray_session(opts: ExecOptions, start_env: dict[str, str | None] | None = None) -> Iterator[None]:
    """Join ``opts.address`` / ``$RAY_ADDRESS``, or start a private local Ray on loopback.

    A local Ray listens on 127.0.0.1 only and uses token authentication with a token made for this
    run; its settings are in the environment (which its processes inherit) only while it lives,
    and what ray.init itself sets there is undone afterwards too. A cluster is joined as the user
    configured it (nothing forced). A Ray already initialised in this process (tests, notebooks)
    is used as it is and left running. ``start_env`` is set only while a local Ray starts (its
    processes inherit it; this process's environment is as before once it runs).
    """
    if ray.is_initialized():
        yield
        return
    # Ray's own warnings (auth token notice, worker deaths) would interleave with the progress
    # display; every trial event that matters is in the store.
    kwargs: dict[str, Scalar] = {"log_to_driver": False, "configure_logging": True,
                                 "logging_level": logging.ERROR}
    address = opts.address or os.environ.get("RAY_ADDRESS")
    token = None
    with ExitStack() as stack:  # unwinds last-in first-out: shutdown, environment, auth state
        if address:
            kwargs["address"] = address
            stack.enter_context(_restored_environ())
        else:
            token = secrets.token_hex(32) if _token_auth_supported() else None
            stack.callback(_refresh_auth_state)  # re-read the restored environment
            stack.enter_context(_restored_environ())
            stack.enter_context(scoped_env(loopback_env(token)))
            _refresh_auth_state()
            stack.enter_context(_loopback_node())
            if opts.dashboard:
                _check_dashboard()
            # "local": a new Ray of our own even when another one runs on this machine (with no
            # address, ray.init would join the last Ray started here, e.g. another user's).
            kwargs.update(address="local", num_cpus=os.cpu_count() or 1,
                          include_dashboard=opts.dashboard,
                          dashboard_host="127.0.0.1", _node_ip_address="127.0.0.1")
        stack.callback(ray.shutdown)  # also stops a half-started Ray after a failed init
        try:
            with scoped_env(start_env if start_env and not address else {}):
                context = ray.init(**kwargs)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            where = address or "a local Ray"
            raise TrainError(f"cannot start or join Ray at {where}: {exc}",
                             key="address") from None
        if opts.dashboard and not address:
            _announce_dashboard(getattr(context, "dashboard_url", None), token)
        yield


def _check_dashboard() -> None:
    """Ray's own test of its dashboard's imports (ExecOptions checked the known list already)."""
    from ray._private.utils import get_dashboard_dependency_error

    error = get_dashboard_dependency_error()
    if error is not None:
        raise TrainError(f"--dashboard needs Ray's dashboard packages ({error}); install them "
                         f"with: {DASHBOARD_INSTALL}", where="command line", key="dashboard")


def _announce_dashboard(url: str | None, token: str | None) -> None:
    """One line on stderr: where the dashboard is, and the token that opens it."""
    url = url or "127.0.0.1:8265"
    sign_in = f"; sign in with the token {token}" if token else ""
    print(f"Ray dashboard: http://{url}{sign_in}", file=sys.stderr, flush=True)
