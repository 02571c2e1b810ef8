"""The outbound dialler: calls the callees of running campaigns through the carrier trunk, and reports how each
attempt ended. `process` wires it (app.py dialler), `dialler` runs it, `stasis` turns the app's ARI events into calls
on `services`, which decides what happens to a call; `rules` holds what is decided without I/O."""
