"""A small Keras training pipeline on scikit-learn's bundled wine data set.

Three steps: ``importer`` splits the data into train and test frames, ``trainer`` fits a small
``keras.Sequential`` classifier (feature normalization inside the model, so the stored model is
self-contained), and ``evaluator`` reports its test accuracy. The data ships inside
scikit-learn, so nothing is downloaded; every random source is seeded, so two runs with the
same parameters give the same model. Training takes about a second on a laptop CPU.

Usage::

    from zenml_widgets.examples.keras_pipeline import make_pipeline

    run = make_pipeline(epochs=30, learning_rate=0.01).run(run_name="wine-lr-0.01")
    model = run.get_step("trainer").output.read()  # a keras.Model

Or wire the steps yourself, as in any pipeline::

    keras_training_pipeline(
        importer=importer(), trainer=trainer(epochs=10), evaluator=evaluator()
    ).run()

TensorFlow and scikit-learn are imported inside the steps, so importing this module is cheap.
Install them with ``pip install "zenml-widgets[tensorflow,examples]"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zenml_widgets import Output, pipeline, step

if TYPE_CHECKING:
    import keras

    from zenml_widgets.runner import BasePipeline, BaseStep

TARGET = "target"
"""Name of the label column in the frames that ``importer`` returns."""


@step
def importer(test_size: float = 0.25, seed: int = 0) -> Output(  # type: ignore[valid-type]
    train=pd.DataFrame, test=pd.DataFrame
):
    """Loads the wine data set (178 wines, 13 features, 3 cultivars) and splits it.

    Args:
        test_size: Fraction of the rows that go to the test frame.
        seed: Seed of the stratified split.

    Returns:
        ``train`` and ``test`` frames: the 13 numeric features and an integer ``target`` column.
    """
    from sklearn.datasets import load_wine
    from sklearn.model_selection import train_test_split

    frame = load_wine(as_frame=True).frame
    train, test = train_test_split(
        frame, test_size=test_size, random_state=seed, stratify=frame[TARGET]
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


@step
def trainer(
    train: pd.DataFrame,
    epochs: int = 30,
    learning_rate: float = 0.01,
    hidden_units: int = 16,
    batch_size: int = 16,
    seed: int = 0,
) -> keras.Model:
    """Fits a one-hidden-layer classifier with Adam, logging each epoch's metrics.

    Args:
        train: Training frame with the feature columns and ``target``.
        epochs: Passes over the training data.
        learning_rate: Adam's learning rate.
        hidden_units: Width of the hidden layer.
        batch_size: Rows per gradient step.
        seed: Seed of the weight initialization and the shuffling.

    Returns:
        The trained, compiled model (its optimizer state is stored with it).
    """
    import keras

    from zenml_widgets.integrations.tensorflow import MetricsCallback

    keras.utils.set_random_seed(seed)
    features, labels = _split_xy(train)
    normalize = keras.layers.Normalization(name="normalize")
    normalize.adapt(features)
    model = keras.Sequential(
        [
            keras.Input((features.shape[1],), name="features"),
            normalize,
            keras.layers.Dense(hidden_units, activation="relu", name="hidden"),
            keras.layers.Dense(int(labels.max()) + 1, activation="softmax", name="cultivar"),
        ],
        name="wine_classifier",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    # Every epoch's loss and accuracy, on the training rows and the 20 % held out for
    # validation, become the step's learning curves (``trainer.metrics.val_loss``...).
    model.fit(
        features,
        labels,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=0,
        validation_split=0.2,
        callbacks=[MetricsCallback()],
    )
    return model


@step
def evaluator(test: pd.DataFrame, model: keras.Model) -> float:
    """Accuracy of ``model`` on the test frame.

    Args:
        test: Test frame with the feature columns and ``target``.
        model: The trained classifier.

    Returns:
        The fraction of test wines whose cultivar is predicted correctly.
    """
    features, labels = _split_xy(test)
    predicted = np.argmax(model.predict(features, verbose=0), axis=1)
    return float(np.mean(predicted == labels))


@pipeline
def keras_training_pipeline(importer: BaseStep, trainer: BaseStep, evaluator: BaseStep) -> None:
    """Import, train, evaluate."""
    train, test = importer()
    model = trainer(train=train)
    evaluator(test=test, model=model)


def make_pipeline(
    *,
    epochs: int = 30,
    learning_rate: float = 0.01,
    hidden_units: int = 16,
    seed: int = 0,
    test_size: float = 0.25,
) -> BasePipeline:
    """A ``keras_training_pipeline`` instance with the given parameters, ready to ``run()``.

    Args:
        epochs: Passed to ``trainer``.
        learning_rate: Passed to ``trainer``.
        hidden_units: Passed to ``trainer``.
        seed: Seed of both the split and the training.
        test_size: Passed to ``importer``.

    Returns:
        The pipeline instance.
    """
    return keras_training_pipeline(
        importer=importer(test_size=test_size, seed=seed),
        trainer=trainer(
            epochs=epochs, learning_rate=learning_rate, hidden_units=hidden_units, seed=seed
        ),
        evaluator=evaluator(),
    )


def _split_xy(frame: pd.DataFrame) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    features = frame.drop(columns=[TARGET]).to_numpy(dtype="float32")
    labels = frame[TARGET].to_numpy(dtype="int64")
    return features, labels
