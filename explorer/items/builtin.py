"""Built-in data sets: generated in code from facts, or shipped with the package (MMLU); nothing is downloaded."""

from __future__ import annotations

import random
from collections.abc import Callable

from explorer.items.item import Item
from explorer.items.mmlu import mmlu

# Country -> capital. Well-known facts, chosen so small models know many of them.
CAPITALS: dict[str, str] = {
    "France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid", "Portugal": "Lisbon",
    "United Kingdom": "London", "Ireland": "Dublin", "Netherlands": "Amsterdam", "Belgium": "Brussels",
    "Austria": "Vienna", "Switzerland": "Bern", "Poland": "Warsaw", "Czech Republic": "Prague",
    "Hungary": "Budapest", "Greece": "Athens", "Sweden": "Stockholm", "Norway": "Oslo",
    "Denmark": "Copenhagen", "Finland": "Helsinki", "Russia": "Moscow", "Ukraine": "Kyiv",
    "Turkey": "Ankara", "Egypt": "Cairo", "Kenya": "Nairobi", "Nigeria": "Abuja", "Ghana": "Accra",
    "Ethiopia": "Addis Ababa", "Morocco": "Rabat", "South Africa": "Pretoria", "Japan": "Tokyo",
    "China": "Beijing", "South Korea": "Seoul", "India": "New Delhi", "Pakistan": "Islamabad",
    "Thailand": "Bangkok", "Vietnam": "Hanoi", "Indonesia": "Jakarta", "Philippines": "Manila",
    "Malaysia": "Kuala Lumpur", "Australia": "Canberra", "New Zealand": "Wellington",
    "Canada": "Ottawa", "United States": "Washington", "Mexico": "Mexico City", "Cuba": "Havana",
    "Brazil": "Brasilia", "Argentina": "Buenos Aires", "Chile": "Santiago", "Peru": "Lima",
    "Colombia": "Bogota", "Venezuela": "Caracas", "Iran": "Tehran", "Iraq": "Baghdad",
    "Saudi Arabia": "Riyadh", "Israel": "Jerusalem", "Afghanistan": "Kabul", "Bangladesh": "Dhaka",
    "Nepal": "Kathmandu", "Romania": "Bucharest", "Bulgaria": "Sofia", "Serbia": "Belgrade",
    "Croatia": "Zagreb", "Iceland": "Reykjavik", "Lebanon": "Beirut", "Syria": "Damascus",
    "Jordan": "Amman", "Qatar": "Doha", "Senegal": "Dakar", "Uganda": "Kampala",
}

COUNTERFACTUAL_TEMPLATE = "The capital of {country} is {other}.\nQ: What is the capital of {country}?\nA:"
FACT_TEMPLATE = "Q: What is the capital of {country}?\nA:"


def capitals(n: int | None = None, *, k: int = 4, seed: int = 0) -> list[Item]:
    """'What is the capital of X?' with the true capital and k-1 other capitals as distractors.

    The gold answer's position is drawn with the seed, so positions are balanced on average.
    """
    rng = random.Random(seed)
    countries = list(CAPITALS)
    rng.shuffle(countries)
    items = []
    for country in countries[: n or len(countries)]:
        others = rng.sample([c for c in CAPITALS.values() if c != CAPITALS[country]], k - 1)
        gold = rng.randrange(k)
        choices = others[:gold] + [CAPITALS[country]] + others[gold:]
        items.append(Item(id=f"capital-{country}", question=f"What is the capital of {country}?",
                          choices=tuple(choices), answer=gold, metadata={"country": country, "dataset": "capitals"}))
    return items


def arithmetic(n: int = 50, *, k: int = 4, seed: int = 0, max_operand: int = 20) -> list[Item]:
    """'What is a + b?' (or a - b) with the true result and nearby wrong results as distractors."""
    rng = random.Random(seed)
    items: list[Item] = []
    while len(items) < n:
        a, b = rng.randint(1, max_operand), rng.randint(1, max_operand)
        op = rng.choice("+-")
        value = a + b if op == "+" else a - b
        wrong = rng.sample([value + d for d in range(-5, 6) if d != 0], k - 1)
        gold = rng.randrange(k)
        choices = [str(w) for w in wrong[:gold]] + [str(value)] + [str(w) for w in wrong[gold:]]
        item_id = f"arith-{len(items)}"
        items.append(Item(id=item_id, question=f"What is {a} {op} {b}?", choices=tuple(choices), answer=gold,
                          metadata={"dataset": "arithmetic"}))
    return items


def counterfactual_capitals(n: int | None = None, *, seed: int = 0) -> list[dict[str, str]]:
    """Records for the head probe: a context that asserts a wrong capital, then asks for the capital.

    ``target`` is the in-context (asserted) city, ``foil`` the memorised true capital.
    """
    rng = random.Random(seed)
    countries = list(CAPITALS)
    rng.shuffle(countries)
    records = []
    for country in countries[: n or len(countries)]:
        other = rng.choice([c for c in CAPITALS.values() if c != CAPITALS[country]])
        records.append({"id": f"cf-{country}", "country": country,
                        "prompt": COUNTERFACTUAL_TEMPLATE.format(country=country, other=other),
                        "fact_prompt": FACT_TEMPLATE.format(country=country),
                        "target": other, "foil": CAPITALS[country]})
    return records


DATASETS: dict[str, Callable[..., list[Item]]] = {"capitals": capitals, "arithmetic": arithmetic, "mmlu": mmlu}


def builtin_items(name: str, **kwargs) -> list[Item]:
    """A built-in multiple-choice data set by name (see ``DATASETS``)."""
    if name not in DATASETS:
        raise KeyError(f"no built-in data set {name!r}; choose one of {sorted(DATASETS)}")
    return DATASETS[name](**kwargs)
