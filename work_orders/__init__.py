"""Work orders (工单): repair and complaint orders, their one-hour contact deadline, dispatch, escalation and
the county's reply. `rules` is pure (no database, Redis or file I/O); `service` keeps them in the database."""
