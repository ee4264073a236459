"""One file per schema revision, oldest first: 0001_initial.py creates every table."""
