"""Risk and resilience (ARCHITECTURE.md, Risk): reliability, bottlenecks, fragility, time to survive
and recover, locality. Pure domain: numbers from a network and what is known of its history."""
