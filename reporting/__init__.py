"""What the centre reports: the day's queue figures, the supervisors' floor figures, the IVR funnel, the queue
log and the reporting periods. It reads what the other parts wrote and writes nothing they read."""
