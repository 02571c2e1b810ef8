"""The demo utility: a seeded city of customers, meters, bills and outages for `app.py run` and the tests
(demo.seed, written part by part by the modules beside it), and the builders the tests and benchmarks share
(demo.builders: clocks, a few rows of grid, customers and outages). Not part of the running hotline: nothing
outside demo/, app.py, hotline/stack.py (which seeds the demo on `app.py run`), tests/ and bench/ imports it."""
