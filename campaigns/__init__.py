"""Outbound notices (外呼通知): campaigns of outage and bill notices. The pure rules: `rules` (states, outcomes,
retries, the policy's parsing), `hours` (when customers may be called), `eligibility` (who is called, and how),
`messages` (what they hear), `pacing` (a trunk's pacer); `policy` reads the policy file. The service the pages and
the dialler use: `service.CampaignService`, made of `lists` (building), `calls` (running) and `queries` (reading),
handing out `records`. The dialler that calls them is cti/outbound."""
