"""The CTI side of the hotline, everything that happens once a caller needs a person or the hotline calls out: the
ACD (cti/acd/), the outbound dialler (cti/outbound/), the agents' and supervisors' pages (cti/web/), the ARI
adapter they share (ari.py), the hang-up causes (causes.py) and the screen-pop (screenpop.py)."""
