"""zenml_widgets integrations with TensorFlow and Keras: the Keras materializer and model
summaries, and :class:`MetricsCallback` (logs a fit's metrics into the running step). Nothing
here imports TensorFlow until it is needed."""

from zenml_widgets.integrations.tensorflow.callback import MetricsCallback

__all__ = ["MetricsCallback"]
