"""Golden outputs: a small fixed set of runs and one study must reproduce their recorded tables.

The record is `tests/golden/golden.json` (see `tests/golden/cases.py`). A refactor leaves it
untouched; a change meant to alter results rewrites it in the same commit and says why.
"""

from __future__ import annotations

import json

import pytest
from golden import cases

GOLDEN = json.loads(cases.GOLDEN.read_text())


def test_the_golden_record_names_every_case():
    assert set(GOLDEN) == set(cases.RUN_CASES) | {"compare_alliance_function"}


@pytest.mark.parametrize("name", sorted(cases.RUN_CASES))
def test_run_case_reproduces_its_golden_tables(name):
    got = cases.run_case(name)
    want = GOLDEN[name]
    # counts first, so a failure says what changed before it says that the bytes did
    for table in ("outcomes", "timeseries", "events"):
        assert {k: v for k, v in got[table].items() if k != "sha256"} == {
            k: v for k, v in want[table].items() if k != "sha256"
        }, f"{name}: {table} counts changed"
    assert got == want, f"{name}: same counts, different values (see tests/golden/cases.py to update)"


def test_study_case_reproduces_its_golden_tables():
    got = cases.compare_case()
    assert got == GOLDEN["compare_alliance_function"]


def test_digest_sees_a_change_in_the_twelfth_digit():
    import pandas as pd

    a = pd.DataFrame({"x": [0.123456789012]})
    b = pd.DataFrame({"x": [0.123456789013]})
    assert cases.table_digest(a) != cases.table_digest(b)
    assert cases.table_digest(a) == cases.table_digest(a.copy())
