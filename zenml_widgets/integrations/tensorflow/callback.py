"""``MetricsCallback``: a Keras callback that logs training metrics of the running step.

``model.fit(..., callbacks=[MetricsCallback()])`` inside a step logs every epoch's ``logs``
(``loss``, ``val_loss`` and the model's metrics) with ``log_metrics``, at the epoch's index; with
``every_n_batches=N`` also every N-th training batch's, as ``batch.<name>`` at the batch's
index counted over the whole fit. Importing this module does not import TensorFlow or Keras:
the Keras class is made the first time a callback is created. Logging is the runner's: the
package root hands it over through ``zenml_widgets.hooks`` (integrations never import the
runner).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from zenml_widgets import hooks

__all__ = ["MetricsCallback"]


class MetricsCallback:
    """Log a Keras fit's metrics into the running step (see the module).

    Args:
        every_n_batches: also log every N-th training batch's metrics (``batch.loss``...);
            ``None`` (default): epochs only.

    Creating one imports Keras; the object is a ``keras.callbacks.Callback`` (and an instance
    of this class).
    """

    every_n_batches: int | None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is MetricsCallback:
            cls = _keras_class()
        return object.__new__(cls)


def _numbers(logs: dict[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    """The entries of Keras ``logs`` that are single numbers."""
    found = {}
    for name, value in (logs or {}).items():
        if isinstance(value, bool | str) or getattr(value, "shape", ()) not in ((), None):
            continue
        if isinstance(value, int | float) or hasattr(value, "__float__"):
            found[prefix + str(name)] = value
    return found


@cache
def _keras_class() -> type[MetricsCallback]:
    import keras

    class KerasMetricsCallback(keras.callbacks.Callback, MetricsCallback):  # type: ignore[misc]
        __doc__ = MetricsCallback.__doc__

        def __init__(self, *, every_n_batches: int | None = None) -> None:
            super().__init__()
            if every_n_batches is not None and (
                isinstance(every_n_batches, bool)
                or not isinstance(every_n_batches, int)
                or every_n_batches < 1
            ):
                raise ValueError(
                    f"every_n_batches takes a whole number >= 1 (or None), not {every_n_batches!r}"
                )
            self.every_n_batches = every_n_batches
            self._batches = 0

        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self._batches = 0

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            self._batches += 1
            n = self.every_n_batches
            if n is not None and self._batches % n == 0:
                hooks.log_metrics(_numbers(logs, "batch."), step=self._batches - 1)

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            numbers = _numbers(logs)
            if numbers:
                hooks.log_metrics(numbers, step=epoch)

    KerasMetricsCallback.__name__ = KerasMetricsCallback.__qualname__ = "MetricsCallback"
    KerasMetricsCallback.__module__ = __name__
    return KerasMetricsCallback
