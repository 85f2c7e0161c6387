"""Generates realistic, fictional French CRM exports (no real person in them).

Used to build ``samples/`` and the benchmark inputs. Deterministic for a seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FIRST = [
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Lucas",
    "Hugo",
    "Louis",
    "Nathan",
    "Gabriel",
    "Jules",
    "Emma",
    "Zoé",
    "Théo",
    "Élodie",
    "François",
    "Hélène",
    "Noël",
    "Maëlys",
    "Raphaël",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
]
CITIES = [
    ("Paris", "75011"),
    ("Lyon", "69003"),
    ("Marseille", "13008"),
    ("Toulouse", "31000"),
    ("Nantes", "44000"),
    ("Lille", "59000"),
    ("Bordeaux", "33000"),
    ("Saint-Denis", "97400"),
    ("Pointe-à-Pitre", "97110"),
]
COMPANIES = ["", "", "Boulangerie Dupont", "Garage des Lilas", "SARL Martin & Fils", "Café de la Gare"]
SEGMENTS = ["VIP", "Newsletter", "VIP;Newsletter", "Prospects", "Newsletter;Prospects", ""]


def _phone(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mobile numbers in the spellings French CRMs hold."""
    body = rng.integers(10_000_000, 99_999_999, size=n)
    # 06 anything but 0639 (Mayotte); 07 only from 073 (the valid mobile ranges)
    prefix = rng.choice(["61", "62", "64", "65", "66", "67", "68", "73", "75", "77", "78"], size=n)
    body = body % 10_000_000
    style = rng.integers(0, 6, size=n)
    out = np.empty(n, dtype=object)
    for i in range(n):
        nsn = f"{prefix[i]}{body[i]:07d}"
        s = style[i]
        if s == 0:
            out[i] = "0" + " ".join([nsn[0], nsn[1:3], nsn[3:5], nsn[5:7], nsn[7:9]]).replace(" ", "", 1)
        elif s == 1:
            out[i] = f"+33 {nsn[0]} {nsn[1:3]} {nsn[3:5]} {nsn[5:7]} {nsn[7:9]}"
        elif s == 2:
            out[i] = "0" + nsn
        elif s == 3:
            out[i] = "0" + ".".join([nsn[0], nsn[1:3], nsn[3:5], nsn[5:7], nsn[7:9]]).replace(".", "", 1)
        elif s == 4:
            out[i] = "33" + nsn
        else:
            out[i] = "+33 (0)" + nsn
    return out


def make_export(n: int, seed: int = 7, *, odd_share: float = 0.005) -> pd.DataFrame:
    """``n`` rows of a CRM export; ``odd_share`` of them are overseas, foreign or invalid."""
    rng = np.random.default_rng(seed)
    first = rng.choice(FIRST, size=n)
    last = rng.choice(LAST, size=n)
    city_idx = rng.integers(0, len(CITIES), size=n)
    born = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 20000, size=n), unit="D")
    phones = _phone(rng, n)
    odd = np.flatnonzero(rng.random(n) < odd_share)
    odd_values = ["0692 12 34 56", "0690 45 67 89", "0696 11 22 33", "+44 7911 123456", "06 12 34", "n/a"]
    for j, i in enumerate(odd):
        phones[i] = odd_values[j % len(odd_values)]
    frame = pd.DataFrame(
        {
            "CRM Id": [f"C{100000 + i}" for i in range(n)],
            "Nom": last,
            "Prénom": first,
            "Société": rng.choice(COMPANIES, size=n),
            "Mobile": phones,
            "Date de naissance": pd.Series(born).dt.strftime("%d/%m/%Y"),
            "Ville": [CITIES[c][0] for c in city_idx],
            "Code postal": [CITIES[c][1] for c in city_idx],
            "Segments": rng.choice(SEGMENTS, size=n, p=[0.1, 0.4, 0.1, 0.2, 0.1, 0.1]),
            "Opt-in SMS": rng.choice(["Oui", "Non"], size=n, p=[0.9, 0.1]),
        }
    )
    return frame


def churn(frame: pd.DataFrame, share: float, seed: int = 11) -> pd.DataFrame:
    """The next night's export: ``share`` of rows changed, dropped or added."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    n = len(out)
    k = int(n * share / 3)
    changed = rng.choice(n, size=k, replace=False)
    out.loc[changed, "Ville"] = "Nantes"
    out.loc[changed, "Code postal"] = "44000"
    dropped = rng.choice(np.setdiff1d(np.arange(n), changed), size=k, replace=False)
    out = out.drop(index=pd.Index(dropped))
    extra = make_export(k, seed=seed + 1)
    extra["CRM Id"] = [f"N{200000 + i}" for i in range(k)]
    churned: pd.DataFrame = pd.concat([out, extra], ignore_index=True)
    return churned
