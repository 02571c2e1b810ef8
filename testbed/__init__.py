"""The test bed's own parts: a sandboxed hotline (its own state dir and ports), real SIP phones that call and
answer it, and the follower of what the hotline reports about each call. The tests, the benchmarks and
`app.py call` use them; nothing in the running hotline imports them."""
