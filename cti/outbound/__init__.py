"""The outbound dialler: calls the callees of running campaigns through the carrier trunk, and reports how each
attempt ended."""
