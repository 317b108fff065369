"""Example pipelines that make history to explore.

Each example lives in its own module and imports its heavy libraries (TensorFlow,
scikit-learn) only inside its steps, so importing an example module is cheap.

- ``zenml_widgets.examples.keras_pipeline``: train a small Keras classifier on scikit-learn's
  bundled wine data set (``pip install "zenml-widgets[tensorflow,examples]"``).
"""
