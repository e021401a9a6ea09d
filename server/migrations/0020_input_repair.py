import json
import re

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Frozen here (not imported from server.text_safety) so this migration keeps doing what it did when it ran.
_SURROGATE = "\ud800-\udfff"
_FORBIDDEN = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{_SURROGATE}]")
_SURROGATES = re.compile(f"[{_SURROGATE}]")
# JSON escapes as text: what SQLite keeps of a "\udc00" or "\u0000" a JSON field was given.
_ESCAPED = re.compile(r"\\u(?:d[89a-f][0-9a-f]{2}|00[01][0-9a-f])", re.IGNORECASE)
# The text columns that held JSON when this ran: the encrypted JSON fields of 0019, which keep plain JSON text until
# rotate-keys runs. Named here, not recognised by the field class, so a later change of that class changes nothing.
_JSON_TEXT = frozenset({("Application", "entity"), ("Application", "snapshot"), ("AuthorisationRequest", "letter"),
                        ("IdempotencyRecord", "response"), ("OutboxMessage", "params"), ("DevSms", "params")})


def _repaired(value: str) -> str:
    return _FORBIDDEN.sub(lambda match: "\ufffd" if _SURROGATES.match(match.group()) else "", value)


def _repaired_json(value):
    if isinstance(value, str):
        return _repaired(value)
    if isinstance(value, dict):
        return {_repaired(key): _repaired_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_repaired_json(item) for item in value]
    return value


def _text_columns(model) -> list[tuple[str, bool]]:
    """(column, is_json) of every text-carrying field."""
    columns = []
    for name, field in model._meta.fields_map.items():
        if isinstance(field, fields.JSONField) or (model.__name__, name) in _JSON_TEXT:
            columns.append((model._meta.fields_db_projection[name], True))
        elif isinstance(field, (fields.CharField, fields.TextField)):
            columns.append((model._meta.fields_db_projection[name], False))
    return columns


async def repair_stored_text(apps, schema_editor) -> None:
    """Text stored before the input gate: unpaired surrogates become U+FFFD, control characters other than newline,
    carriage return and tab are removed, in every text and JSON column of every table."""
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    for model in apps.get_models_iterable():
        columns = _text_columns(model)
        if not columns:
            continue
        table, pk = model._meta.db_table, model._meta.fields_db_projection[model._meta.pk_attr]
        listed = ", ".join(f'"{column}"' for column, _ in columns)
        for row in await client.execute_query_dict(f'SELECT "{pk}", {listed} FROM "{table}"'):
            changes = {}
            for column, is_json in columns:
                value = row[column]
                if value is None:
                    continue
                if is_json:
                    text = value if isinstance(value, str) else json.dumps(value)
                    if not (_FORBIDDEN.search(text) or _ESCAPED.search(text)):
                        continue
                    repaired = json.dumps(_repaired_json(json.loads(text)), ensure_ascii=False)
                    if repaired != text:
                        changes[column] = repaired
                elif isinstance(value, str) and _FORBIDDEN.search(value):
                    changes[column] = _repaired(value)
            if changes:
                marks = [f"${n}" if postgres else "?" for n in range(1, len(changes) + 2)]
                assignments = ", ".join(f'"{column}" = {mark}' for column, mark in zip(changes, marks))
                await client.execute_query(f'UPDATE "{table}" SET {assignments} WHERE "{pk}" = {marks[-1]}',
                                           [*changes.values(), row[pk]])


class Migration(migrations.Migration):
    """Repairs text stored before the input gate refused unpaired surrogates and control characters; outbox messages
    name the authority they are about, so administrators see only their scope's."""

    dependencies = [('yct', '0023_helper_cases')]

    initial = False

    operations = [
        ops.RunPython(repair_stored_text, ops.RunPython.noop),
        ops.AddField(
            model_name='OutboxMessage',
            name='authority_code',
            field=fields.CharField(max_length=6, null=True, db_index=True),
        ),
    ]
