"""zenml_widgets integrations."""
