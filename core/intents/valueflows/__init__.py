"""Value Flows (VF 1.0) JSON-LD: SCIS's intents, orders, plans, commitments and events written
for other VF tools (writing.py), and intents read back from the same form (reading.py, over
document.py); `validate` checks a document against the VF JSON schemas (validation.py).

Pure: `export` returns the document as a dict and `import_intents` reads one; the caller does
the file or network I/O, and loads the schemas (../shared/corpus/valueflows/json-schemas).
"""

from core.intents.valueflows.reading import import_intents
from core.intents.valueflows.validation import validate
from core.intents.valueflows.vocabulary import STAGE_ACTIONS, VF, context, date_time
from core.intents.valueflows.writing import OrderRecord, export

__all__ = [
    "STAGE_ACTIONS",
    "VF",
    "OrderRecord",
    "context",
    "date_time",
    "export",
    "import_intents",
    "validate",
]
