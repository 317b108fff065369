# Installed by zenml-widgets into {sys.prefix}/etc/ipython/: load its IPython extension
# (%zenml_history and display hooks) in every new kernel of this environment.
#
# It appends to a list of its own (extra_extensions) so that extensions configured elsewhere,
# e.g. in ipython_kernel_config.json beside this file, are kept. Loading never fails kernel start.
# Opt out: ZENML_WIDGETS_AUTOLOAD=0, or `python -m zenml_widgets.extension.autoload disable`.
c = get_config()  # noqa: F821
c.InteractiveShellApp.extra_extensions.append("zenml_widgets.extension.autoload")
