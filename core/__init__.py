"""SCIS domain: pure, no I/O beyond reading the files it is asked to import."""
