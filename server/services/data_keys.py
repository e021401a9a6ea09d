"""Re-encrypting personal data under the current data key (`python -m server rotate-keys`).

Every model field that is encrypted (server/crypto.py) is found by its type, so a new one needs no entry here.
Only rows holding a value not under the current key id are read — plain values written before encryption, or values
under an older key — so the command is resumable: stopped half way, it carries on where it left off.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tortoise import Tortoise, connections
from tortoise.transactions import in_transaction

from server.crypto import (
    BlindIndexField,
    EncryptedJSONField,
    EncryptedTextField,
    is_encrypted,
    keyring,
)


@dataclass(frozen=True)
class EncryptedTable:
    table: str
    pk: str
    columns: tuple[str, ...]             # encrypted columns
    indexes: tuple[tuple[str, str], ...]  # (index column, the encrypted column it indexes)


def encrypted_tables() -> list[EncryptedTable]:
    found = []
    for model in Tortoise.apps["yct"].values():
        meta = model._meta
        columns = tuple(meta.fields_db_projection[name] for name, field in meta.fields_map.items()
                        if isinstance(field, (EncryptedTextField, EncryptedJSONField)))
        if not columns:
            continue
        indexes = tuple((meta.fields_db_projection[name], meta.fields_db_projection[field.source])
                        for name, field in meta.fields_map.items() if isinstance(field, BlindIndexField))
        found.append(EncryptedTable(meta.db_table, meta.db_pk_column, columns, indexes))
    return sorted(found, key=lambda table: table.table)


async def rotate_keys(batch_size: int, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Re-encrypt every value not under the current key and refresh its blind index; rows changed per table."""
    ring = keyring()
    prefix = f"v1:{ring.current_key_id}:"
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"

    def mark(number: int) -> str:
        return f"${number}" if postgres else "?"

    done: dict[str, int] = {}
    for table in encrypted_tables():
        # The prefix is safe inline: key ids are letters, digits, _ and - (config validates them).
        stale = " OR ".join(f"(\"{c}\" IS NOT NULL AND substr(\"{c}\", 1, {len(prefix)}) <> '{prefix}')"
                            for c in table.columns)
        selected = ", ".join(f'"{c}"' for c in (table.pk, *table.columns))
        first = f'SELECT {selected} FROM "{table.table}" WHERE ({stale}) ORDER BY "{table.pk}" LIMIT {int(batch_size)}'
        after = (f'SELECT {selected} FROM "{table.table}" WHERE ({stale}) AND "{table.pk}" > {mark(1)} '
                 f'ORDER BY "{table.pk}" LIMIT {int(batch_size)}')
        written = [*table.columns, *(index for index, _ in table.indexes)]
        same = "IS NOT DISTINCT FROM" if postgres else "IS"
        # Raw SQL: the archive's rows refuse ORM updates (append-only), and re-encryption does not change a value.
        # Guarded by the values read: a row the service changed meanwhile is already under the current key.
        update = (f'UPDATE "{table.table}" SET '
                  + ", ".join(f'"{c}" = {mark(i + 1)}' for i, c in enumerate(written))
                  + f' WHERE "{table.pk}" = {mark(len(written) + 1)} AND '
                  + " AND ".join(f'"{c}" {same} {mark(len(written) + 2 + i)}' for i, c in enumerate(table.columns)))
        changed, last = 0, None
        while True:
            rows = await (conn.execute_query_dict(first) if last is None
                          else conn.execute_query_dict(after, [last]))
            if not rows:
                break
            values = []
            for row in rows:
                plain = {c: (ring.decrypt(row[c]) if is_encrypted(row[c]) else row[c]) for c in table.columns}
                sealed = [None if plain[c] is None else ring.encrypt(str(plain[c])) for c in table.columns]
                indexed = [None if plain[source] is None else ring.blind_index(str(plain[source]))
                           for _, source in table.indexes]
                values.append([*sealed, *indexed, row[table.pk], *(row[c] for c in table.columns)])
            async with in_transaction() as transaction:
                await transaction.execute_many(update, values)
            changed += len(rows)
            last = rows[-1][table.pk]
            if progress:
                progress(table.table, changed)
        done[table.table] = changed
    return done
