"""Intents and Value Flows (DESIGN.md glossary: intent): offers, requests and proposals cast by
participants, matched against each other and against the network's needs."""
