"""Rebuilds the sample exports in this folder (fictional people, fixed seed).

python samples/make_samples.py
"""

from __future__ import annotations

import contextlib
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from bench.exports import make_export  # noqa: E402


def main() -> None:
    frame = make_export(60, seed=3, odd_share=0.0)
    # A few rows that show what the tool does with real-world mess:
    frame.loc[5, "Mobile"] = "0692 12 34 56"  # Réunion, written nationally
    frame.loc[6, "Mobile"] = "06 12 34"  # too short: rejected
    frame.loc[7, "Mobile"] = frame.loc[8, "Mobile"]  # same person twice: merged
    frame.loc[7, "CRM Id"] = frame.loc[8, "CRM Id"]
    frame.loc[[5, 7, 8, 9, 11], "Opt-in SMS"] = "Oui"
    frame.loc[9, "Date de naissance"] = "31/02/1980"  # impossible date: warning, contact kept
    frame.loc[10, "Segments"] = "VIP;Promo--Noël"  # '--' is the API's group separator: rejected
    frame.loc[11, "Nom"] = "  de   La Fontaine "  # whitespace collapsed
    frame.to_csv(HERE / "crm_export.csv", sep=";", index=False, encoding="cp1252")

    wb = Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(list(frame.columns))
    for record in frame.head(40).to_dict("records"):
        phone = str(record["Mobile"]).replace(" ", "").replace(".", "")
        digits = phone[1:] if phone.startswith("0") and phone.isdigit() else None
        record["Mobile"] = int(digits) if digits and len(digits) == 9 else record["Mobile"]  # lost leading zero
        with contextlib.suppress(ValueError):  # the impossible date stays text on purpose
            record["Date de naissance"] = datetime.strptime(str(record["Date de naissance"]), "%d/%m/%Y")
        ws.append(list(record.values()))
    wb.save(HERE / "crm_export.xlsx")
    print(f"wrote {len(frame)} CSV rows and 40 XLSX rows to {HERE}")


if __name__ == "__main__":
    main()
    _ = pd
