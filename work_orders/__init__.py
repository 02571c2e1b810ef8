"""Work orders (工单): repair and complaint orders, their one-hour contact deadline, dispatch, escalation and
the county's reply. `rules` and `records` are pure (no database, Redis or file I/O); `policy` reads the policy file;
`service` is the one object callers use, and keeps orders in the database through `intake`, `workflow` and
`queries` (with what they share in `store`)."""
