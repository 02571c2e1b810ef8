"""The demo utility: a seeded province of customers, meters, bills and outages for `app.py run` and the tests.
Not part of the running hotline: nothing outside demo/, app.py, tests/ and bench/ imports it."""
