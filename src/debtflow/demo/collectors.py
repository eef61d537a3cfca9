"""A believable collection workforce across the demo's cities."""

from __future__ import annotations

import random

from faker import Faker

from debtflow.collector.service import CollectorSpec
from debtflow.demo.cities import CITIES
from debtflow.models.enums import CollectorKind

STYLES = ("style:communicative", "style:empathetic", "style:firm", "style:patient")
SKILLS = ("skill:negotiation", "skill:legal", "skill:small_business", "skill:rural",
          "skill:skip_tracing", "skill:elderly")  # fmt: skip
INDUSTRY_TAGS = ("industry:零售", "industry:餐饮", "industry:物流", "industry:建筑",
                 "industry:制造", "industry:农业", "industry:批发")  # fmt: skip


def generate_collectors(*, cases: int, seed: int) -> list[CollectorSpec]:
    rng = random.Random(f"{seed}:collectors")
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    online = max(4, cases // 60)
    field = max(3, cases // 120)
    part_time = max(2, cases // 200)
    law_firms = max(1, cases // 800)
    big_cities = sorted(CITIES, key=lambda c: -c.weight)
    specs: list[CollectorSpec] = []

    def tags(extra: tuple[str, ...] = ()) -> tuple[str, ...]:
        chosen = set(rng.sample(STYLES, 1)) | set(rng.sample(SKILLS, rng.randint(1, 2)))
        if rng.random() < 0.4:
            chosen.add(rng.choice(INDUSTRY_TAGS))
        return tuple(sorted(chosen | set(extra)))

    for i in range(online):
        city = big_cities[i % 6]  # call centres sit in a few big cities
        specs.append(
            CollectorSpec(
                code=f"ON{i + 1:04d}",
                name=fake.name(),
                kind=CollectorKind.ONLINE_AGENT,
                home_province=city.province,
                home_city=city.name,
                regions=("全国",),
                tags=tags((f"dialect:{city.dialect}", "dialect:mandarin")),
                capacity_hours_week=40,
                latitude=city.latitude,
                longitude=city.longitude,
            )
        )
    for i in range(field):
        city = rng.choices(CITIES, weights=[c.weight for c in CITIES])[0]
        neighbours = tuple(c.name for c in CITIES if c.province == city.province)
        specs.append(
            CollectorSpec(
                code=f"FD{i + 1:04d}",
                name=fake.name(),
                kind=CollectorKind.FIELD_AGENT,
                home_province=city.province,
                home_city=city.name,
                regions=neighbours,
                tags=tags((f"dialect:{city.dialect}",)),
                capacity_hours_week=rng.choice((36, 40, 44)),
                latitude=city.latitude + rng.uniform(-0.05, 0.05),
                longitude=city.longitude + rng.uniform(-0.05, 0.05),
            )
        )
    for i in range(part_time):
        city = rng.choices(CITIES, weights=[c.weight for c in CITIES])[0]
        background = rng.choice(("background:retired_judge", "background:former_bank_manager",
                                 "background:community_worker"))  # fmt: skip
        specs.append(
            CollectorSpec(
                code=f"PT{i + 1:04d}",
                name=fake.name(),
                kind=CollectorKind.PART_TIME,
                home_province=city.province,
                home_city=city.name,
                regions=(city.name,),
                tags=tags((background, f"dialect:{city.dialect}")),
                capacity_hours_week=rng.choice((8, 12, 16, 20)),
                latitude=city.latitude,
                longitude=city.longitude,
            )
        )
    for i in range(law_firms):
        city = big_cities[i % len(big_cities)]
        specs.append(
            CollectorSpec(
                code=f"LF{i + 1:04d}",
                name=f"{fake.last_name()}{rng.choice(('律师事务所', '律所'))}（{city.name}）",
                kind=CollectorKind.LAW_FIRM,
                home_province=city.province,
                home_city=city.name,
                regions=("全国",),
                tags=("skill:legal", "skill:litigation", "skill:asset_preservation"),
                capacity_hours_week=80,
                latitude=city.latitude,
                longitude=city.longitude,
            )
        )
    return specs
