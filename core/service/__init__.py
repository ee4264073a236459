"""Application commands, one handler per use case (the dynamic-supply-chain issue)."""
