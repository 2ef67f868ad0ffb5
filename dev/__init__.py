"""Local runs of the SAM application, without Docker: `python -m dev.local_api`, `dev.invoke` and `dev.token`.

Everything here reads `template.yaml` (see `dev.template`) and runs the real handlers as Lambda does, each function
in a warm Runtime Interface Emulator (`dev.emulator`). Nothing in this package is deployed.
"""
