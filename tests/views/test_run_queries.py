"""Runs as data, complete: ``or``, ``not``, parentheses, ``in``, ``like``, ``is null``, several
sort keys, ``run_id`` and ``tags.<key>`` columns, on SQLite and PostgreSQL (``store_url``).

Every answer is checked against an oracle that evaluates the same parsed filter in Python over
the whole table, with the documented rules: a comparison on a value the run lacks (or of the
other kind: text against a number) is false, ``not`` negates a whole condition, ``is null``
holds for a missing value or a NaN; runs without a sort value come last, a run value sorts its
numbers before its text, ties keep start order.
"""

from __future__ import annotations

import math
import operator
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from views.test_runs_table import HOSTILE_METRIC, HOSTILE_PARAM, N_RUNS, _history
from zw_testing import make_repo

from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.repository import Repository
from zenml_widgets.views.run_filters import AllOf, AnyOf, FilterSyntaxError, Not, parse_where

OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
       ">": operator.gt, ">=": operator.ge}  # fmt: skip
HOSTILE_TAG = "<b>&amp;'\"`"
STAGES = ["prod", "50%_off", "50x_off", "Été", "été", "dev\\path", "PROD"]


def _tagged(repo: Repository) -> None:
    """``_history``'s runs, plus a column holding numbers in some runs and text in others, a
    NaN, and tags: marks, values with ``%``, ``_``, a backslash, accents and cases."""
    _history(repo)
    _history(repo, "other", runs=5)
    store = repo.active_stack.metadata_store
    runs = repo.get_pipeline("train").runs
    for i, run in enumerate(runs):
        trainer = run.get_step("trainer")
        mixed: Any = i if i % 3 else f"s{i % 10}"
        noisy = math.nan if i % 8 == 1 else i / 4
        store.record_values(trainer.id, parameters={"mixed": mixed, "noisy": noisy})
        if i % 5 == 0:
            run.set_tag("baseline")
        if i % 3 != 2:
            run.set_tag("stage", STAGES[i % len(STAGES)])
        if i % 11 == 0:
            run.set_tag(HOSTILE_TAG, "<i>x</i>")


@pytest.fixture
def query_repo(tmp_path: Path, store_url: str) -> Repository:
    repo = make_repo(tmp_path, store_url)
    _tagged(repo)
    return repo


# -- the oracle -------------------------------------------------------------------------------


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _kind(v: Any) -> str:
    if isinstance(v, str):
        return "text"
    if isinstance(v, datetime | pd.Timestamp):
        return "time"
    return "number"


def _like(text: str, pattern: str, fold: bool) -> bool:
    regex, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    if fold:
        lower = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
        text, joined = text.translate(lower), "".join(regex).translate(lower)
    else:
        joined = "".join(regex)
    return re.fullmatch(joined, text, flags=re.DOTALL) is not None


def _leaf(v: Any, op: str, value: Any, column: str) -> bool:
    if op == "is null":
        return _missing(v)
    if op == "is not null":
        return not _missing(v)
    if _missing(v):
        return False
    if "like" in op:
        found = isinstance(v, str) and _like(v, value, "ilike" in op)
        return (not found and isinstance(v, str)) if op.startswith("not") else found
    values = list(value) if op in ("in", "not in") else [value]
    if column in ("start", "end"):
        values = [pd.Timestamp(x) for x in values]
        values = [x.tz_localize(UTC) if x.tzinfo is None else x for x in values]
    if isinstance(v, bool):
        v = int(v)
    same = [x for x in values if _kind(x) == _kind(v)]
    if op == "in":
        return any(v == x for x in same)
    if op == "not in":
        return (bool(same) or not values) and all(v != x for x in same)
    return bool(same) and OPS[op](v, same[0])


def _holds(node: Any, row: dict[str, Any]) -> bool:
    if isinstance(node, AnyOf):
        return any(_holds(item, row) for item in node.items)
    if isinstance(node, AllOf):
        return all(_holds(item, row) for item in node.items)
    if isinstance(node, Not):
        return not _holds(node.item, row)
    column, op, value = node
    return _leaf(row.get(column), op, value, column)


def _sort_key(v: Any) -> tuple[int, Any]:
    """(rank, value): numbers 0, text 1, missing or NaN 2."""
    if _missing(v):
        return 2, 0
    if isinstance(v, str):
        return 1, v.encode()
    return 0, v


def _oracle(full: pd.DataFrame, where: str, sort: list[str], ascending: list[bool]) -> list[str]:
    """Run names in the order the filter and sort give, computed in Python."""
    tree = parse_where(where)
    rows = [r for r in full.to_dict("records") if all(_holds(node, r) for node in tree)]
    rows.sort(key=lambda r: r["run_id"])
    for column, up in reversed(list(zip(sort, ascending, strict=True))):
        if column in ("start", "run_id"):
            rows.sort(key=lambda r: r["run_id"], reverse=not up)
            continue
        ranked: list[list[tuple[Any, dict[str, Any]]]] = [[], [], []]
        for r in rows:
            rank, value = _sort_key(r[column])
            ranked[rank].append((value, r))
        for group in ranked[:2]:  # stable: equal values keep the order of the keys after
            group.sort(key=lambda vr: vr[0], reverse=not up)
        rows = [r for group in ranked for _, r in group]
    return [r["name"] for r in rows]


def _full(repo: Repository) -> pd.DataFrame:
    return repo.get_pipeline("train").runs.to_dataframe(ascending=True)


WHERE = [
    "trainer.epochs >= 5 or trainer.lr < 0.002",
    "trainer.epochs >= 5 or trainer.lr < 0.002 and evaluator.output.passed == true",
    "(trainer.epochs >= 5 or trainer.lr < 0.002) and evaluator.output.passed == true",
    "not trainer.epochs >= 5",
    "not (trainer.epochs >= 5 or trainer.optimizer == 'adam')",
    "not not trainer.optimizer == 'sgd'",
    "trainer.optimizer != 'adam'",
    "not trainer.optimizer == 'adam'",
    "trainer.epochs in (1, 3, 5)",
    "trainer.epochs not in (1, 3, 5)",
    "trainer.optimizer in ('adam', 'Zeta')",
    "trainer.optimizer not in ('adam', 'Zeta')",
    "trainer.mixed in (4, 's3', 5.0)",
    "trainer.mixed not in (4, 's3')",
    "trainer.mixed not in (4, 5)",
    "trainer.mixed > 10 or trainer.mixed >= 's5'",
    "trainer.epochs in ()",
    "trainer.epochs not in ()",
    "evaluator.output.accuracy in (2, 0.15, 0.95)",
    "trainer.optimizer like 'a%'",
    "trainer.optimizer like '_d%'",
    "trainer.optimizer not like '%a%'",
    "trainer.optimizer ilike 'ZE%'",
    "trainer.optimizer like 'ze%'",
    "tags.stage like '50\\%%'",
    "tags.stage like '50_\\_off'",
    "tags.stage like '50%off'",
    "tags.stage like 'dev\\\\\\\\path'",
    "tags.stage ilike 'prod'",
    "tags.stage ilike 'été'",
    "tags.stage like 'Été' or tags.stage == 'PROD'",
    "tags.stage is null",
    "tags.baseline is not null",
    "tags.baseline is not null or tags.stage in ('prod', 'dev\\\\path')",
    "not tags.baseline is not null and tags.stage >= 'a'",
    "tags.nobody_set_this is null",
    "tags.nobody_set_this == 'x' or trainer.epochs == 0",
    "trainer.optimizer is null",
    "trainer.optimizer is not null and not trainer.optimizer in ('sgd')",
    "trainer.noisy is null",
    "trainer.noisy is not null and trainer.noisy < 5",
    "not trainer.noisy < 5",
    "evaluator.output.accuracy is null or evaluator.output.accuracy > 0.5",
    "status in ('failed') or name like 'train-00_'",
    "name not like 'train-0%' and not status == 'failed'",
    "run_id in (3, 5, 7) or run_id > 38",
    "end is not null and duration >= 0",
    "end is null",
    f"`trainer.{HOSTILE_PARAM.replace('`', '``')}` == 1 or "
    f"`evaluator.output.{HOSTILE_METRIC}` < 50",
    f"`tags.{HOSTILE_TAG.replace('`', '``')}` == '<i>x</i>'",
    # values are bound, never spliced into the statement
    "trainer.optimizer == '\\'; DELETE FROM runs; --' or tags.stage in ('x\\' OR 1=1 --')",
    "tags.stage like '%\\' OR \\'1\\'=\\'1' or name ilike '\"; DROP TABLE run_tags; --'",
]


@pytest.mark.parametrize("where", WHERE)
def test_every_operator_matches_the_oracle(query_repo: Repository, where: str) -> None:
    runs = query_repo.get_pipeline("train").runs
    full = _full(query_repo)
    expected = _oracle(full, where, ["start"], [True])
    got = runs.to_dataframe(where=where, ascending=True, columns=["name"])
    assert list(got["name"]) == expected, where
    # newest first, a page, and the count of every match
    table = runs.table(where=where, limit=5, count=True, columns=["name"])
    assert list(table.column("name")) == expected[::-1][:5]
    assert table.total == len(expected)
    assert len(_full(query_repo)) == len(full)  # nothing written


LEADING = [  # plain conditions on run values, which may lead the walk when few runs hold them
    "trainer.epochs > 1000",
    "trainer.epochs >= 5 and evaluator.output.accuracy > 0.5",
    "trainer.optimizer == 'adam' and tags.stage == 'prod'",
    "trainer.mixed >= 's5' and trainer.noisy < 5",
    "evaluator.output.accuracy in (2, 0.15, 0.95)",
]


def test_a_tag_or_value_filter_answers_the_same_walked_first_or_last(
    query_repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a tag or run-value condition few runs hold is walked first, a common one
    checked as the sort walks: both give the oracle's answer, sorted by start, by a value
    and by a tag (every condition here is rare, so count none as few)."""
    from zenml_widgets.store import run_table

    runs = query_repo.get_pipeline("train").runs
    full = _full(query_repo)
    wheres = [w for w in WHERE if "tags." in w.split(" or ")[0]][:12] + LEADING
    sorts = (["start"], ["trainer.epochs", "tags.stage"], ["evaluator.output.accuracy"])
    for few in (run_table.FEW_TAGGED, 0):
        monkeypatch.setattr(run_table, "FEW_TAGGED", few)
        for where in wheres:
            for sort in sorts:
                up = [True] * len(sort)
                got = runs.to_dataframe(where=where, sort=sort, ascending=up, columns=["name"])
                assert list(got["name"]) == _oracle(full, where, sort, up), (few, where, sort)


SORTS = [
    (["trainer.epochs", "trainer.lr"], [True, False]),
    (["trainer.epochs", "evaluator.output.accuracy"], [False, True]),
    (["evaluator.output.accuracy", "trainer.optimizer"], [True, True]),
    (["trainer.optimizer", "trainer.epochs"], [False, False]),
    (["trainer.mixed", "name"], [True, True]),
    (["trainer.mixed"], [False]),
    (["trainer.noisy", "trainer.epochs"], [True, True]),
    (["tags.stage", "trainer.epochs"], [True, False]),
    (["status", "tags.baseline", "trainer.lr"], [True, True, False]),
    (["trainer.epochs", "tags.stage", "name"], [True, False, True]),
    (["duration", "trainer.epochs"], [False, True]),
]


@pytest.mark.parametrize(("sort", "ascending"), SORTS)
def test_several_sort_keys_match_the_oracle(
    query_repo: Repository, sort: list[str], ascending: list[bool]
) -> None:
    runs = query_repo.get_pipeline("train").runs
    full = _full(query_repo)
    expected = _oracle(full, "", sort, ascending)
    if "duration" not in sort:  # durations tie in the store's microseconds only
        got = runs.to_dataframe(sort=sort, ascending=ascending, columns=["name"])
        assert list(got["name"]) == expected
    for offset in (0, 7, 30):  # pages across the segments of the first key
        page = runs.to_dataframe(
            sort=sort, ascending=ascending, limit=7, offset=offset, columns=["name"]
        )
        assert len(page) == len(expected[offset : offset + 7])
        if "duration" not in sort:
            assert list(page["name"]) == expected[offset : offset + 7]
    where = "trainer.epochs >= 2 or tags.baseline is not null"
    filtered = runs.to_dataframe(where=where, sort=sort, ascending=ascending, limit=9)
    if "duration" not in sort:
        assert list(filtered["name"]) == _oracle(full, where, sort, ascending)[:9]
    descending = [not a for a in ascending]
    flipped = runs.to_dataframe(sort=sort, descending=descending, limit=9, columns=["name"])
    assert len(flipped) == 9


def test_one_direction_for_every_key_and_the_errors_of_sort(query_repo: Repository) -> None:
    runs = query_repo.get_pipeline("train").runs
    full = _full(query_repo)
    keys = ["trainer.epochs", "trainer.lr"]
    got = runs.to_dataframe(sort=keys, columns=["name"])  # descending by default, as before
    assert list(got["name"]) == _oracle(full, "", keys, [False, False])
    same = runs.to_dataframe(sort=keys, ascending=False, columns=["name"])
    assert list(same["name"]) == list(got["name"])
    up = runs.to_dataframe(sort=tuple(keys), ascending=True, columns=["name"])
    assert list(up["name"]) == _oracle(full, "", keys, [True, True])
    with pytest.raises(ValueError, match=r"ascending= takes a bool or a list of 2 bools"):
        runs.to_dataframe(sort=keys, ascending=[True])
    with pytest.raises(ValueError, match="contradict"):
        runs.to_dataframe(sort=keys, ascending=[True, False], descending=[False, False])
    with pytest.raises(ValueError, match="twice"):
        runs.to_dataframe(sort=["trainer.lr", "trainer.lr"])
    with pytest.raises(KeyError, match=r"No column 'trainer.l' \(in sort=\).*Did you mean"):
        runs.to_dataframe(sort=["trainer.epochs", "trainer.l"])


def test_run_id_identifies_rows_and_tags_are_columns(query_repo: Repository) -> None:
    pipeline = query_repo.get_pipeline("train")
    full = _full(query_repo)
    assert list(full.columns[:6]) == ["name", "status", "start", "end", "duration", "run_id"]
    assert full["run_id"].dtype == "int64"
    assert full["run_id"].is_unique
    assert [pipeline.get_run(n).id for n in full["name"][:5]] == list(full["run_id"][:5])
    tag_columns = [c for c in full.columns if c.startswith("tags.")]
    assert tag_columns == sorted(["tags.baseline", "tags.stage", f"tags.{HOSTILE_TAG}"])
    assert list(full.columns[-3:]) == tag_columns  # after the run values
    assert full["tags.baseline"].tolist() == ["" if i % 5 == 0 else None for i in range(N_RUNS)]
    stages = [STAGES[i % len(STAGES)] if i % 3 != 2 else None for i in range(N_RUNS)]
    assert full["tags.stage"].tolist() == stages
    across = query_repo.runs_dataframe(columns=["run_id", "tags.stage"])
    assert list(across.columns) == ["pipeline", "name", "run_id", "tags.stage"]
    assert across["run_id"].is_unique and len(across) == N_RUNS + 5
    assert across[across["pipeline"] == "other"]["tags.stage"].isna().all()
    # a whole large table reads its tags by key: the same values
    big = pipeline.runs.table(columns=["tags.stage"])
    assert big.column("tags.stage")[::-1] == stages
    empty = pipeline.runs.to_dataframe(columns=["tags.nobody_set_this"], limit=3)
    assert empty["tags.nobody_set_this"].isna().all()


def test_tuples_take_every_operator(query_repo: Repository) -> None:
    runs = query_repo.get_pipeline("train").runs
    full = _full(query_repo)

    def names(where: Any) -> list[str]:
        return list(runs.to_dataframe(where=where, ascending=True, columns=["name"])["name"])

    def oracle(where: str) -> list[str]:
        return _oracle(full, where, ["start"], [True])

    assert names(("trainer.epochs", "in", [1, 3])) == oracle("trainer.epochs in (1, 3)")
    both = [("trainer.optimizer", "NOT IN", {"adam"}), ("tags.stage", "is not", None)]
    assert names(both) == oracle("trainer.optimizer not in ('adam') and tags.stage is not null")
    assert names(("tags.baseline", "is", None)) == oracle("tags.baseline is null")
    assert names(("trainer.optimizer", "like", "%a%")) == oracle("trainer.optimizer like '%a%'")
    tree = AnyOf((("trainer.epochs", "=", 0), Not(("tags.stage", "IS NOT", None))))
    assert names(tree) == oracle("trainer.epochs == 0 or not tags.stage is not null")
    assert names(("status", "in", ["failed"])) == list(full[full["status"] == "failed"]["name"])
    middle = full["start"][20]
    assert names(("start", "in", [middle.isoformat(), middle.to_pydatetime()])) == [
        full["name"][20]
    ]
    with pytest.raises(TypeError, match="takes a list of values"):
        runs.to_dataframe(where=("trainer.epochs", "in", 3))
    with pytest.raises(ValueError, match="takes no value"):
        runs.to_dataframe(where=("trainer.epochs", "is null", 3))
    with pytest.raises(ValueError, match=r"Unknown operator '=~'"):
        runs.to_dataframe(where=("trainer.epochs", "=~", 3))


def test_a_filter_that_does_not_parse_says_where(query_repo: Repository) -> None:
    runs = query_repo.get_pipeline("train").runs
    cases = {
        "trainer.epochs >= 5 or": (22, "expected a column name"),
        "(trainer.epochs >= 5": (20, "expected ')' closing the '(' at position 0"),
        "trainer.epochs >= 5)": (19, "this ')' closes no '('"),
        "trainer.epochs in 5": (18, "expected '(' and a list of values after 'in'"),
        "trainer.epochs in (1 2)": (21, "expected ',' or ')' in the list opened at position 18"),
        "trainer.optimizer like adam": (23, "expected a quoted pattern after 'like'"),
        "trainer.optimizer is 'x'": (21, "expected 'null' after 'is'"),
        "trainer.optimizer == null": (21, "null compares with 'is null'"),
        "trainer.optimizer not == 'x'": (22, "expected 'in', 'like' or 'ilike' after 'not'"),
        "not": (3, "expected a column name"),
        "a == 1 and or b == 2": (11, "expected a column name, not 'or'"),
    }
    for text, (position, what) in cases.items():
        with pytest.raises(FilterSyntaxError) as caught:
            runs.to_dataframe(where=text)
        message = str(caught.value)
        assert f"at position {position}: {what}" in message, message
        caret = message.splitlines()[2]
        assert caret == " " * (4 + position) + "^", message
    # names are checked everywhere in the expression, each error listing what exists
    with pytest.raises(KeyError) as unknown:
        runs.to_dataframe(where="trainer.epochs > 1 or not (trainer.optimzer == 'adam')")
    assert "No column 'trainer.optimzer' (in where=)" in str(unknown.value)
    assert "Did you mean 'trainer.optimizer'?" in str(unknown.value)
    assert "'tags.stage'" in str(unknown.value) and "tags 'tags.<key>'" in str(unknown.value)
    with pytest.raises(FilterSyntaxError, match=r"holds int values, so 'like' matches no run"):
        runs.to_dataframe(where="trainer.epochs > 1 or trainer.epochs like '1%'")
    with pytest.raises(FilterSyntaxError, match=r"'tags.stage' holds str values.*quoted string"):
        runs.to_dataframe(where="tags.stage in ('prod', 3)")
    with pytest.raises(FilterSyntaxError, match=r"'trainer.epochs' holds int values.*a number"):
        runs.to_dataframe(where="not trainer.epochs in (1, '2')")
    with pytest.raises(TypeError, match="compares with a string"):
        runs.to_dataframe(where="name in ('a', 1)")
    with pytest.raises(TypeError, match="does not hold text"):
        runs.to_dataframe(where="duration like '1%'")


def test_like_escapes_are_kept_in_strings() -> None:
    assert parse_where(r"x like '50\%\_x' and y == 'a\'b\\c'") == [
        ("x", "like", r"50\%\_x"), ("y", "==", "a'b\\c"),
    ]  # fmt: skip
    assert parse_where("NOT x IN (1,2) OR x Is Not Null") == [
        AnyOf((Not(("x", "in", (1, 2))), ("x", "is not null", None)))
    ]
    assert parse_where("notes == 1 and `not` == 2 and isolated is null") == [
        ("notes", "==", 1), ("not", "==", 2), ("isolated", "is null", None),
    ]  # fmt: skip


# -- tags -------------------------------------------------------------------------------------


def test_set_overwrite_and_remove_tags(tmp_path: Path, store_url: str) -> None:
    repo = make_repo(tmp_path, store_url)
    _history(repo, runs=3)
    run = repo.get_pipeline("train").get_run("train-001")
    assert run.tags == {}
    run.set_tag("baseline")
    run.set_tag("stage", "dev")
    run.set_tag("stage", "prod")  # overwritten
    run.set_tag("Émoji ✓", "ü" * 5000)
    expected = {"baseline": "", "stage": "prod", "Émoji ✓": "ü" * 5000}
    assert run.tags == expected
    assert list(run.tags) == ["baseline", "stage", "Émoji ✓"]  # by bytes
    again = repo.get_pipeline("train").get_run("train-001")
    assert again.tags == expected
    assert repo.get_pipeline("train").get_run("train-000").tags == {}
    run.remove_tag("baseline")
    assert run.tags == {"stage": "prod", "Émoji ✓": "ü" * 5000}
    with pytest.raises(NotFoundError, match=r"no tag 'stag'.*'stage'.*Did you mean 'stage'"):
        run.remove_tag("stag")
    assert repo.get_pipeline("train").get_run("train-001").tags == run.tags
    df = repo.get_pipeline("train").runs.to_dataframe(where="tags.stage == 'prod'")
    assert list(df["name"]) == ["train-001"]


@pytest.mark.parametrize(
    ("key", "value", "error", "match"),
    [
        ("", "", ValueError, "cannot be empty"),
        ("   ", "", ValueError, "cannot be empty"),
        ("k" * 256, "", ValueError, "at most 255 characters"),
        (" padded", "", ValueError, "spaces at either end"),
        ("line\nbreak", "", ValueError, "control characters"),
        ("ok", "v" * 5001, ValueError, "at most 5,000 characters"),
        (3, "", TypeError, "key is a string"),
        ("ok", 3, TypeError, r"value is a string.*str\(value\)"),
    ],
)
def test_tags_that_cannot_be(
    tmp_path: Path, store_url: str, key: Any, value: Any, error: type, match: str
) -> None:
    repo = make_repo(tmp_path, store_url)
    _history(repo, runs=1)
    run = repo.get_pipeline("train").get_run("train-000")
    with pytest.raises(error, match=match):
        run.set_tag(key, value)
    run.set_tag("k" * 255, "v" * 5000)  # the limits themselves are fine
    assert repo.get_pipeline("train").get_run("train-000").tags == {"k" * 255: "v" * 5000}


def test_a_tag_set_by_another_process_shows_after_a_refresh(tmp_path: Path, store_url: str) -> None:
    from zw_testing import run_python

    from zenml_widgets.widgets import HistoryExplorer

    repo = make_repo(tmp_path / "repo", store_url)
    _history(repo, runs=3)
    run = repo.get_pipeline("train").get_run("train-002")
    assert run.tags == {}
    explorer = HistoryExplorer(repo).select("train", "train-002")
    assert "none" in explorer.tags.chips.children[0].value
    run_python(
        "from zenml_widgets.repository import Repository\n"
        "r = Repository().get_pipeline('train').get_run('train-002')\n"
        "r.set_tag('stage', '<b>prod</b>')\n",
        cwd=repo.root,
    )
    assert run.tags == {}  # a view reads its tags once
    assert repo.get_pipeline("train").get_run("train-002").tags == {"stage": "<b>prod</b>"}
    table = repo.get_pipeline("train").runs.table(where="tags.stage is not null")
    assert table.column("name") == ["train-002"]  # a runs table asks the store each time
    explorer.refresh()
    labels = [c.children[0].value for c in explorer.tags.chips.children]
    assert labels == ["<code>stage=&lt;b&gt;prod&lt;/b&gt;</code>"]
    html = explorer.ui.preview.value
    assert "&lt;b&gt;prod&lt;/b&gt;" in html and "<b>prod</b>" not in html


def test_tags_are_escaped_in_every_display(query_repo: Repository) -> None:
    runs = query_repo.get_pipeline("train").runs
    table = runs.table(where=f"`tags.{HOSTILE_TAG.replace('`', '``')}` is not null")
    html = table._repr_mimebundle_()["text/html"]
    assert "<i>x</i>" not in html and "&lt;i&gt;x&lt;/i&gt;" in html
    assert "<b>&amp;'" not in html and "&lt;b&gt;&amp;amp;" in html
    run = runs[0]
    bundle = run._repr_mimebundle_()
    assert "<i>" not in bundle["text/html"] and "&lt;i&gt;x&lt;/i&gt;" in bundle["text/html"]
    assert f"{HOSTILE_TAG}=<i>x</i>" in bundle["text/plain"]
    assert "<code>baseline</code>" in bundle["text/html"]


def test_a_tag_on_a_deleted_run_says_so(tmp_path: Path) -> None:
    from zenml_widgets.store.sql import Sql

    repo = make_repo(tmp_path)
    store = repo.active_stack.metadata_store
    pipeline = store.get_or_create_pipeline("p")
    bare = store.create_run(pipeline.id, "bare", pid=None, hostname="h")
    run = repo.get_pipeline("p").get_run("bare")
    store._read().execute("test", Sql("DELETE FROM runs WHERE id = ?", (bare.id,)))
    with pytest.raises(NotFoundError, match=f"No run with id {bare.id}"):
        run.set_tag("late")
