"""Outbound notices (外呼通知): campaigns of outage and bill notices, their eligibility rules and the calling
window (`rules`, pure) and their records (`service`). The dialler that calls them is cti/outbound."""
