"""The workspace: one DuckDB file, attached as ``ws`` so that a key can be given for encryption.

All access goes through one :class:`Store`; the UI reaches it through a single serialized executor,
so the connection is never used from two threads at once.
"""

from __future__ import annotations

import glob
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from desktop.core.workspace.errors import describe_damage, describe_open_error, missing_core_tables
from desktop.core.workspace.keyslot import (
    file_is_encrypted,
    missing_slot_message,
    recover_interrupted_rewrite,
    slot_path,
)
from desktop.core.workspace.migrations import MIGRATIONS, SCHEMA_VERSION

WORKSPACE_ALIAS = "ws"
#: The storage format a new workspace is written in (an encrypted one gets it anyway). DuckDB's default for a new
#: file is still v1.0.0, readable by old DuckDB releases we never ship; v1.3.0 and later compress text with
#: DICT_FSST, which writes an import's text columns about twice as fast and the file slightly smaller
#: (`make bench-import`). A workspace created earlier keeps its format; DuckDB reads both.
STORAGE_VERSION = "v1.5.0"
# Keys of workspaces unlocked with their passphrase in this process (see workspace_crypto.unlock_workspace),
# so that callers which open a workspace by path alone (the chat command, the executor) keep working.
# Forgotten on lock and on close of the app.
_unlocked_keys: dict[str, str] = {}


def _key_name(path: str | Path) -> str:
    return str(Path(path).expanduser().resolve())


def remember_workspace_key(path: str | Path, key: str) -> None:
    _unlocked_keys[_key_name(path)] = key


def is_workspace_unlocked(path: str | Path) -> bool:
    """Whether this process holds the key of ``path`` (given with its passphrase since the last lock)."""
    return _key_name(path) in _unlocked_keys


def forget_workspace_key(path: str | Path | None = None) -> None:
    """Forget one workspace's key, or every key when ``path`` is None (lock, quit)."""
    if path is None:
        _unlocked_keys.clear()
    else:
        _unlocked_keys.pop(_key_name(path), None)


class WorkspaceError(Exception):
    """A workspace cannot be opened or is newer than this version of the app."""


class WorkspaceInUse(WorkspaceError):
    """Another process holds the workspace's lock (an import or a window elsewhere); the message names it."""


def _httpfs_extension_path() -> str | None:
    """The httpfs extension file shipped by the ``duckdb-extension-httpfs`` wheel (needed for encryption)."""
    try:
        import duckdb_extension_httpfs
    except ImportError:
        return None
    root = Path(duckdb_extension_httpfs.__file__).parent
    found = glob.glob(str(root / "extensions" / f"v{duckdb.__version__}" / "*.duckdb_extension"))
    return found[0] if found else None


class Store:
    """An open workspace. ``con`` has the workspace attached and selected with ``USE``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str) -> None:
        self.con = con
        self.path = path
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block atomically: everything it wrote is kept, or none of it is."""
        with self._lock:
            self.con.execute("BEGIN TRANSACTION")
            try:
                yield self.con
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            self.con.execute("COMMIT")

    def schema_version(self) -> int:
        row = self.con.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def close(self) -> None:
        with self._lock:
            self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(
    path: str | Path, *, encryption_key: str | None = None, read_only: bool = False, create: bool = True
) -> Store:
    """Open the workspace at ``path`` and bring its schema up to date; with ``create`` (and not
    ``read_only``), a path that does not exist becomes a new workspace (File > New, ``import``).

    An existing file is first opened read-only and refused, untouched, unless it carries Vitalsight's schema
    marker (a ``schema_version`` table with a version): another program's DuckDB file is never written.
    ``path`` may be ``":memory:"`` for tests. With ``encryption_key`` the file is encrypted by DuckDB
    (AES); the httpfs extension that provides the cipher is loaded from its wheel, offline.
    """
    path_text = str(path)
    if path_text != ":memory:":
        recover_interrupted_rewrite(path_text)
        if encryption_key is None and (slot_path(path_text).exists() or file_is_encrypted(path_text)):
            encryption_key = _unlocked_keys.get(_key_name(path_text))
            if encryption_key is None:
                _raise_locked(path_text)
        target = str(Path(path_text).expanduser())
        if Path(target).exists():
            refuse_unless_workspace(target, encryption_key)
        elif read_only or not create:
            raise WorkspaceError(f"{target}: no such workspace")
    con = new_connection(encrypted=encryption_key is not None)
    options = []
    if encryption_key is not None:
        # ATTACH takes no bound parameters, so the key is quoted as a literal.
        options.append(f"ENCRYPTION_KEY {_sql_string(encryption_key)}")
    if read_only:
        options.append("READ_ONLY")
    elif path_text != ":memory:" and not Path(path_text).expanduser().exists():
        options.append(f"STORAGE_VERSION {_sql_string(STORAGE_VERSION)}")
    attach_options = f" ({', '.join(options)})" if options else ""
    target = path_text if path_text == ":memory:" else str(Path(path_text).expanduser())
    try:
        con.execute(f"ATTACH {_sql_string(target)} AS {WORKSPACE_ALIAS}{attach_options}")
    except duckdb.Error as exc:
        con.close()
        sentence, in_use = describe_open_error(target, exc)
        raise (WorkspaceInUse if in_use else WorkspaceError)(sentence) from exc
    con.execute(f"USE {WORKSPACE_ALIAS}")
    if path_text != ":memory:":
        # DuckDB's default spill directory is ".tmp" in the process's working directory, wherever that is;
        # beside the workspace it stays on the workspace's volume and is easy to find and check.
        con.execute(f"SET temp_directory = {_sql_string(target + '.tmp')}")
    store = Store(con, target)
    try:
        if not read_only:
            migrate(store)
        elif store_schema_version(con) > SCHEMA_VERSION:
            raise WorkspaceError(
                f"{target} was written by a newer Vitalsight (schema {store_schema_version(con)})."
            )
        missing = missing_core_tables(con, WORKSPACE_ALIAS)
        if missing:
            raise WorkspaceError(
                f"{target} is damaged: its table{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"{'are' if len(missing) > 1 else 'is'} missing; open a backup or another workspace."
            )
    except duckdb.Error as exc:  # a damaged file can attach and fail at its first read
        con.close()
        raise WorkspaceError(describe_damage(target, exc)) from exc
    except WorkspaceError:
        con.close()
        raise
    return store


def refuse_unless_workspace(target: str, encryption_key: str | None = None) -> None:
    """Raise WorkspaceError, having written nothing, unless ``target`` is a Vitalsight workspace: it is
    opened read-only and must hold the schema marker (a ``schema_version`` table with a version in it)."""
    if Path(target).is_dir():
        raise WorkspaceError(f"Cannot open workspace {target}: it is a folder, not a workspace file.")
    if Path(target).stat().st_size == 0:
        raise WorkspaceError(f"Cannot open workspace {target}: the file is empty (0 bytes), not a Vitalsight "
                             "workspace; nothing was changed. Choose another file, or import into a new one.")
    con = new_connection(encrypted=encryption_key is not None)
    key = f", ENCRYPTION_KEY {_sql_string(encryption_key)}" if encryption_key is not None else ""
    try:
        try:
            con.execute(f"ATTACH {_sql_string(target)} AS {WORKSPACE_ALIAS} (READ_ONLY{key})")
        except duckdb.Error as exc:
            sentence, in_use = describe_open_error(target, exc)
            raise (WorkspaceInUse if in_use else WorkspaceError)(sentence) from exc
        try:
            con.execute(f"USE {WORKSPACE_ALIAS}")
            tables = [r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY table_name",
                [WORKSPACE_ALIAS]).fetchall()]
            if "schema_version" not in tables:
                held = (f"it holds the tables {', '.join(tables[:8])}{' …' if len(tables) > 8 else ''}" if tables
                        else "it holds no tables")
                raise WorkspaceError(
                    f"{target} is not a Vitalsight workspace: it is a DuckDB database without Vitalsight's schema "
                    f"marker ({held}); nothing was changed. Choose a Vitalsight workspace, or give a new file name "
                    "to create one.")
            if store_schema_version(con) == 0:
                raise WorkspaceError(
                    f"{target} cannot be opened: its schema version is empty, so nothing says which Vitalsight "
                    "wrote it (a workspace whose creation did not finish, or a damaged one); nothing was changed. "
                    "Open a backup or another workspace.")
        except duckdb.Error as exc:  # attached, then the catalogue could not be read: damaged
            raise WorkspaceError(describe_damage(target, exc)) from exc
    finally:
        con.close()


def new_connection(*, encrypted: bool) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with nothing attached, set up as every workspace connection is."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    # Store every time in UTC; a file's offsets are converted on import.
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB draws a progress bar on stderr for long queries: noise in the command line's output.
    con.execute("SET enable_progress_bar = false")
    if encrypted:
        extension = _httpfs_extension_path()
        if extension is None:
            con.close()
            raise WorkspaceError("Encryption needs the duckdb-extension-httpfs package matching DuckDB.")
        con.execute(f"LOAD {_sql_string(extension)}")
        # DuckDB 1.5.5 leaves temporary (spill) files in plain text even for an encrypted database
        # unless asked; patient rows must not reach the disk unencrypted that way.
        con.execute("SET temp_file_encryption = true")
    return con


def _raise_locked(path_text: str) -> None:
    if not slot_path(path_text).exists():
        raise WorkspaceError(missing_slot_message(path_text))
    raise WorkspaceError(f"{path_text} is encrypted: its passphrase is needed to open it.")


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def store_schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = 'schema_version'",
        [WORKSPACE_ALIAS],
    ).fetchone()
    if not exists or exists[0] == 0:
        return 0
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(store: Store) -> None:
    """Apply the migrations the workspace has not seen yet, each in its own transaction."""
    con = store.con
    current = store_schema_version(con)
    if current > SCHEMA_VERSION:
        raise WorkspaceError(
            f"{store.path} has schema version {current}; this Vitalsight knows up to {SCHEMA_VERSION}. "
            "Update the app to open it."
        )
    if current == 0:
        con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, description VARCHAR, applied_at TIMESTAMP)")
    # By the versions applied, not the highest: a version reserved and shipped later (4 came after 5 and 6)
    # still reaches a workspace written in between.
    applied = {int(v) for (v,) in con.execute("SELECT version FROM schema_version").fetchall()} if current else set()
    for migration in MIGRATIONS:
        if migration.version in applied:
            continue
        with store.transaction():
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, now()::TIMESTAMP)",
                [migration.version, migration.description],
            )
