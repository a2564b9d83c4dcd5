from exporters.cli import entrypoint

entrypoint()
