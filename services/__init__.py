"""The intake services: parser, validator, notifier, and the ``intake`` command."""
