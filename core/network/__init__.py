"""The supply network: its records (model.py), its file format and the rules that keep it
consistent, and its stored form (snapshot.py)."""
