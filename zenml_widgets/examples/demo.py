"""Build a demo repository with real history: ``python -m zenml_widgets.examples.demo PATH``.

Three pipelines on the embedded SQLite stack: ``daily_features`` (dozens of runs of pandas
feature engineering, cached imports, one failed validation run), ``keras_training_pipeline``
(small Keras models on scikit-learn's bundled wine data, a learning-rate sweep) and
``data_quality`` (statistics-friendly frames with missing values, categories, timestamps).
Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zenml_widgets import Output, pipeline, step
from zenml_widgets.exceptions import StepFailedError
from zenml_widgets.repository import Repository
from zenml_widgets.runner import BaseStep

CITIES = ["Berlin", "Lisbon", "Oslo", "Porto", "Riga", "Turin"]


@step
def load_events(day: int = 0, n_rows: int = 2000) -> pd.DataFrame:
    """One day of synthetic sales events."""
    rng = np.random.default_rng(day)
    start = pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(days=day)
    return pd.DataFrame(
        {
            "event_time": start + pd.to_timedelta(rng.integers(0, 86_400, n_rows), unit="s"),
            "city": pd.Categorical(rng.choice(CITIES, n_rows)),
            "customer": pd.array([f"c{i:05d}" for i in rng.integers(0, 800, n_rows)], "str"),
            "amount": rng.lognormal(3, 0.6, n_rows).round(2),
            "items": pd.array(rng.integers(1, 6, n_rows), dtype="Int64"),
            "returned": rng.random(n_rows) < 0.04,
        }
    )


@step
def build_features(events: pd.DataFrame, min_amount: float = 5.0) -> Output(  # type: ignore[valid-type]
    features=pd.DataFrame, summary=dict
):
    """Per-city features and a small summary."""
    kept = events[events["amount"] >= min_amount]
    features = (
        kept.groupby("city", observed=True)
        .agg(revenue=("amount", "sum"), orders=("amount", "size"), items=("items", "sum"))
        .reset_index()
    )
    summary = {"rows_in": len(events), "rows_kept": len(kept), "cities": len(features)}
    return features, summary


@step
def validate(features: pd.DataFrame, strict: bool = False) -> bool:
    """Fails on purpose in strict mode when a city has fewer than 400 orders."""
    small = features[features["orders"] < 400]
    if strict and len(small):
        raise ValueError(f"cities with fewer than 400 orders: {', '.join(map(str, small['city']))}")
    return True


@pipeline
def daily_features(load_events: BaseStep, build_features: BaseStep, validate: BaseStep) -> None:
    """Load a day of events, build features, validate."""
    events = load_events()
    features, _summary = build_features(events=events)
    validate(features=features)


@step
def sample_table(n_rows: int = 5000, missing: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """A frame with every kind of column the statistics know."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, n_rows).round()
    age[rng.random(n_rows) < missing] = np.nan
    signup = pd.Series(pd.date_range("2025-01-01", periods=n_rows, freq="h", tz="Europe/Lisbon"))
    signup = signup.mask(rng.random(n_rows) < missing)
    return pd.DataFrame(
        {
            "age": age,
            "income": rng.lognormal(10, 0.5, n_rows),
            "segment": pd.Categorical(
                rng.choice(["basic", "plus", "pro"], n_rows, p=[0.6, 0.3, 0.1])
            ),
            "country": pd.array(rng.choice(["PT", "DE", "NO", "IT"], n_rows), dtype="str"),
            "active": rng.random(n_rows) < 0.7,
            "visits": pd.array(rng.poisson(3, n_rows), dtype="Int64"),
            "signup": signup,
        }
    )


@step
def split(table: pd.DataFrame, test_fraction: float = 0.2) -> Output(  # type: ignore[valid-type]
    train=pd.DataFrame, test=pd.DataFrame
):
    """A reproducible train/test split."""
    cut = int(len(table) * (1 - test_fraction))
    return table.iloc[:cut], table.iloc[cut:]


@pipeline
def data_quality(sample_table: BaseStep, split: BaseStep) -> None:
    """Make a table and split it; look at both with Facets statistics."""
    table = sample_table()
    split(table=table)


def build(root: Path, *, days: int = 30, keras_runs: int = 4, quiet: bool = False) -> Repository:
    """Create (or extend) a demo repository at ``root`` and fill it with history."""
    from tqdm.auto import tqdm

    root.mkdir(parents=True, exist_ok=True)
    try:
        repo = Repository(root)
    except Exception:
        repo = Repository.init(root)
    plan = days + 1 + 2 + keras_runs
    # the demo's own bar counts the runs: no bar and no echoed step output per run (their
    # logs are kept all the same)
    silent: dict[str, Any] = {"repository": repo, "stream_logs": False, "progress": False}
    with tqdm(total=plan, desc="building demo history", unit="run", disable=quiet) as bar:
        for day in range(days):
            # Days repeat every 10: the second time round, load_events is cached.
            daily_features(
                load_events=load_events(day=day % 10),
                build_features=build_features(min_amount=5.0 + (day // 10)),
                validate=validate(),
            ).run(run_name=f"day-{day:02d}", **silent)
            bar.update()
        try:
            daily_features(
                load_events=load_events(day=3, n_rows=500),
                build_features=build_features(),
                validate=validate(strict=True),
            ).run(run_name="day-03-strict", **silent)
        except StepFailedError as e:
            if not quiet:
                print(f"(the failed run is on purpose: {e})", file=sys.stderr)
        bar.update()
        for missing, seed in ((0.1, 0), (0.3, 1)):
            data_quality(sample_table=sample_table(missing=missing, seed=seed), split=split()).run(
                run_name=f"quality-missing-{int(missing * 100)}", **silent
            )
            bar.update()
        try:
            from zenml_widgets.examples.keras_pipeline import make_pipeline
        except ImportError as e:  # pragma: no cover - the [tensorflow,examples] extras
            print(f"skipping the Keras pipeline: {e}", file=sys.stderr)
        else:
            for i in range(keras_runs):
                lr = [0.01, 0.003, 0.03, 0.001][i % 4]
                make_pipeline(epochs=20, learning_rate=lr).run(
                    run_name=f"wine-lr-{lr}-{i}", **silent
                )
                bar.update()
    return repo


def main(argv: list[str] | None = None) -> int:
    """Command line: build the demo repository."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default="demo", help="folder (default: ./demo)")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--keras-runs", type=int, default=4)
    args = parser.parse_args(argv)
    repo = build(Path(args.path), days=args.days, keras_runs=args.keras_runs)
    for p in repo.get_pipelines():
        print(f"{p.name}: {len(p.runs)} runs")
    print(f"Demo repository: {repo.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
