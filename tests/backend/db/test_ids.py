"""UUIDv7 row ids."""

import uuid

from backend.db.ids import new_id


def test_ids_are_version_7_with_the_rfc_variant() -> None:
    parsed = uuid.UUID(new_id())
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_ids_made_in_a_row_sort_in_the_order_they_were_made() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
