"""Pure domain logic: no I/O, no frameworks, ``now`` always passed in."""
