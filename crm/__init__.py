"""The utility's business data that the IVR and the CTI side both read and write: customers, accounts, bills,
outages, contacts (one per call) and work orders."""
