"""A realistic field dataset to explore: sites, the equipment at them, and inspections of both.

The rows come from a seeded generator, so every `outpost demo` makes the same data. Relations are
given as indexes into the related collection's rows; the loader turns them into record ids.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

SEED = 20261130
REGIONS = ("North", "South", "East", "West", "Central")
KINDS = ("pump", "generator", "solar panel", "water filter", "radio", "fridge")
STATUSES = ("passed", "needs repair", "failed")
TAGS = ("leak", "corrosion", "power", "access", "safety")
PLACES = (
    "Abuja Road", "Baraka", "Cedar Hill", "Dunmore", "Elm Ford", "Fairview", "Gatundu", "Hillcrest", "Iringa Gate",
    "Juba Cross", "Kasese", "Lakeside", "Mto wa Mbu", "Northgate", "Oloika", "Pine Ridge", "Quarry Lane",
    "Riverside", "Sunset Camp", "Tamale East", "Upper Ridge", "Valley Post", "Westfield", "Yendi", "Zomba Point",
)  # fmt: skip
VENDORS = ("Acme", "Sol", "Hydra")
INSPECTORS = ("amina", "bruno", "chen", "dalia", "emeka", "farah", "goran", "hana", "ivan", "jamal", "keiko", "lena")


def _field(name: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, **extra}


# Create bodies of POST /api/v1/collections, in an order where every relation's target comes first.
COLLECTIONS: tuple[dict[str, Any], ...] = (
    {
        "name": "sites",
        "description": "Places the field teams visit",
        "fields": [
            _field("code", "text", required=True, unique=True, constraints={"pattern": "^[A-Z]{3}-[0-9]{3,6}$"}),
            _field("name", "text", required=True, indexed=True, constraints={"max_length": 120}),
            _field("region", "select", required=True, indexed=True, options=list(REGIONS)),
            _field("latitude", "number", constraints={"min": -90, "max": 90}),
            _field("longitude", "number", constraints={"min": -180, "max": 180}),
            _field("opened", "date"),
            _field("active", "boolean", default=True),
            _field("contact_email", "email"),
            _field("notes", "text", constraints={"max_length": 2000}),
        ],
    },
    {
        "name": "equipment",
        "description": "What is installed at each site",
        "fields": [
            _field("serial", "text", required=True, unique=True),
            _field("kind", "select", required=True, indexed=True, options=list(KINDS)),
            _field("site", "relation", required=True, relation={"collection": "sites", "on_delete": "cascade"}),
            _field("installed", "date"),
            _field("last_service", "datetime"),
            _field("hours", "integer", constraints={"min": 0}),
            _field("specs", "json"),
        ],
    },
    {
        "name": "inspections",
        "description": "Visits to a site, and what was found",
        "fields": [
            _field("site", "relation", required=True, relation={"collection": "sites", "on_delete": "restrict"}),
            _field("equipment", "relation", relation={"collection": "equipment", "on_delete": "set_null"}),
            _field("inspected_at", "datetime", required=True, indexed=True),
            _field("inspector", "email", required=True, indexed=True),
            _field("status", "select", required=True, indexed=True, options=list(STATUSES)),
            _field("score", "number", constraints={"min": 0, "max": 100}),
            _field("tags", "select", multiple=True, options=list(TAGS)),
            _field("report_url", "url"),
            _field("readings", "json"),
            _field("follow_up", "boolean", default=False),
        ],
    },
)


@dataclass(frozen=True)
class Related:
    """A relation value to fill in: the index of a row of another collection."""

    collection: str
    index: int


@dataclass(frozen=True)
class DemoSize:
    """How many rows of each collection (the default makes 10 400)."""

    sites: int = 400
    equipment: int = 2_000
    inspections: int = 8_000

    def of(self, collection: str) -> int:
        """Rows of collection."""
        return int(getattr(self, collection))

    @classmethod
    def scaled(cls, scale: float) -> DemoSize:
        """The default size times scale (at least one row of each)."""
        base = cls()
        return cls(
            sites=max(1, round(base.sites * scale)),
            equipment=max(1, round(base.equipment * scale)),
            inspections=max(1, round(base.inspections * scale)),
        )


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def rows(collection: str, size: DemoSize, seed: int = SEED) -> Iterator[dict[str, Any]]:
    """The record bodies of one collection, relations as Related placeholders."""
    rng = random.Random(f"{seed}:{collection}")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for index in range(size.of(collection)):
        if collection == "sites":
            place = rng.choice(PLACES)
            yield {
                "code": f"{place[:3].upper()}-{index:03d}",
                "name": f"{place} {index + 1}",
                "region": rng.choice(REGIONS),
                "latitude": round(rng.uniform(-12.0, 12.0), 5),
                "longitude": round(rng.uniform(28.0, 42.0), 5),
                "opened": (date(2015, 1, 1) + timedelta(days=rng.randrange(3650))).isoformat(),
                "active": rng.random() > 0.08,
                "contact_email": f"{place.split()[0].lower()}{index}@field.example.org",
                "notes": rng.choice(("", "Road floods in the rainy season.", "Gate key with the chief.", "")),
            }
        elif collection == "equipment":
            kind = rng.choice(KINDS)
            yield {
                "serial": f"{kind[:2].upper()}{index:06d}",
                "kind": kind,
                "site": Related("sites", rng.randrange(size.sites)),
                "installed": (date(2018, 1, 1) + timedelta(days=rng.randrange(2500))).isoformat(),
                "last_service": _iso(start + timedelta(minutes=rng.randrange(1_000_000))),
                "hours": rng.randrange(0, 40_000),
                "specs": {
                    "power_w": rng.choice((60, 120, 250, 800, 1500)),
                    "vendor": rng.choice(("Acme", "Sol", "Hydra")),
                },
            }
        else:
            status = rng.choices(STATUSES, weights=(70, 22, 8))[0]
            yield {
                "site": Related("sites", rng.randrange(size.sites)),
                "equipment": Related("equipment", rng.randrange(size.equipment)) if rng.random() < 0.8 else None,
                "inspected_at": _iso(start + timedelta(minutes=rng.randrange(1_400_000))),
                "inspector": f"{rng.choice(INSPECTORS)}@field.example.org",
                "status": status,
                "score": round(rng.uniform(60, 100) if status == "passed" else rng.uniform(0, 70), 1),
                "tags": rng.sample(TAGS, rng.randrange(0, 3)) if status != "passed" else [],
                "report_url": f"https://reports.example.org/inspections/{index + 1}",
                "readings": {"pressure_kpa": round(rng.uniform(80, 320), 1), "ph": round(rng.uniform(5.5, 8.5), 2)},
                "follow_up": status != "passed",
            }
