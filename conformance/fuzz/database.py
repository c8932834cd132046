"""Where a campaign keeps what its workers share: hypothesis's own example database (issue 22).

By default it is the directory database in the report directory, which the workers of one
machine share; ``--database redis://HOST:PORT/DB`` names hypothesis's `RedisExampleDatabase`
instead, which workers on any machine share (the ``redis`` client is the optional dependency
``rescheck[distributed]``). ``--campaign NAME`` keeps one campaign's examples and records
apart from another's in the same database. rescheck invents no mechanism of its own here:
hypothesis replays what the database holds at the start of every run, whoever saved it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

from conformance.errors import UsageError

#: The campaign of a command that names none.
DEFAULT_CAMPAIGN = "default"
#: The directory database's place in the report directory.
DIRECTORY = "hypothesis-db"
#: The URL schemes of a Redis server (redis-py's ``Redis.from_url``).
REDIS_SCHEMES = ("redis", "rediss", "unix")
#: How long connecting to Redis may take before the campaign says it cannot (s).
CONNECT_TIMEOUT_S = 5.0
#: How long one Redis command may take (s): a campaign's records are small.
COMMAND_TIMEOUT_S = 30.0
#: What the extra is called, for the one line that says to install it.
EXTRA = "pip install 'rescheck[distributed]'"


def is_redis(spec: str) -> bool:
    return urlsplit(spec).scheme in REDIS_SCHEMES


def shown(spec: str) -> str:
    """``spec`` as it may be printed and written into reports: without a password."""
    parts = urlsplit(spec)
    if parts.scheme not in REDIS_SCHEMES or parts.password is None:
        return spec
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def resolved(spec: str | None, report_dir: Path) -> str:
    """The database a command uses: a Redis URL as given, a directory as an absolute path
    (workers may run elsewhere), by default the report directory's."""
    if spec is None:
        return str((report_dir / DIRECTORY).resolve())
    return spec if is_redis(spec) else str(Path(spec).resolve())


def open_database(spec: str, campaign: str) -> ExampleDatabase:
    """The campaign's database; a Redis server that does not answer, or no client to ask it
    with, is a `UsageError` (one line)."""
    if not is_redis(spec):
        directory = Path(spec)
        return DirectoryBasedExampleDatabase(
            str(directory if campaign == DEFAULT_CAMPAIGN else directory / campaign)
        )
    try:
        import redis
        from hypothesis.extra.redis import RedisExampleDatabase
    except ImportError:
        raise UsageError(
            f"--database {shown(spec)} needs the redis client, which is not installed: {EXTRA}"
        ) from None
    try:
        client = redis.Redis.from_url(
            spec, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=COMMAND_TIMEOUT_S
        )
        client.ping()
    except (ValueError, redis.RedisError) as exc:
        raise UsageError(
            f"--database {shown(spec)}: no Redis server answers there ({_said(exc)}); start one "
            "or give the URL of one (redis://HOST:PORT/DB)"
        ) from None
    return RedisExampleDatabase(
        client,
        key_prefix=f"rescheck:{campaign}:".encode(),
        listener_channel=f"rescheck:{campaign}:changes",
    )


def store_errors() -> tuple[type[Exception], ...]:
    """What the database raises when it cannot be reached any more: Redis's errors (the
    directory database swallows its own)."""
    found = sys.modules.get("redis")
    return (found.RedisError,) if found is not None else ()


def lost(exc: BaseException) -> bool:
    errors = store_errors()
    return bool(errors) and isinstance(exc, errors)


def _said(exc: BaseException) -> str:
    """An exception's text on one line."""
    return " ".join(str(exc).split()) or type(exc).__name__
