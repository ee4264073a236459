"""SCIS core: the domain and the application's use cases; no chat, no broker, no HTTP.

The domain packages — network, importers, weave, pricing, stages, risk, intents and frames — are
pure: they touch no database and read only the files they are asked to import (pictures are
drawn to bytes in memory). `core/store` is the storage (tables, migrations, the unit of work);
`core/service` holds the use cases, one handler per command, over the store.
"""
