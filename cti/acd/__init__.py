"""The ACD: the router processes (ARI + Redis) that queue callers and offer them to agents by tier, the routing
policy, the Redis store (one Lua script per state change), the events it publishes, and the agent desk's actions."""
