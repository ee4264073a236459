"""The importers, in the order they are asked whether they recognise a path."""

from core.importers import bom_csv, fablabs_json, okh_losh, okh_v1, okw_helpful, scis_yaml

IMPORTERS = [scis_yaml, okh_losh, bom_csv, okw_helpful, okh_v1, fablabs_json]
