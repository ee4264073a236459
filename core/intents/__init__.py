"""Intents and Value Flows (ARCHITECTURE.md, the paper's words): offers, requests and proposals
cast by participants, matched against each other and against the network's needs."""
