"""The importers, in the order they are asked whether they recognise a path."""

from core.importers import scis_yaml

IMPORTERS = [scis_yaml]
