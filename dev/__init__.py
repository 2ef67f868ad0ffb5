"""Docker-free local runs of the SAM application: `python -m dev.local_api`, `dev.invoke` and `dev.token`.

Everything here reads `template.yaml` for its functions and routes (see `dev.template`) and runs the real
handlers, each function in its own long-lived worker process, the way Lambda keeps a container warm.
Nothing in this package is deployed.
"""
