"""The ACD: the router processes (ARI + Redis) that queue callers and offer them to agents by tier, the routing
policy, the Redis store (one Lua script per state change), the events it publishes, the agent desk's actions, and
the wiring of its processes (process.py)."""
