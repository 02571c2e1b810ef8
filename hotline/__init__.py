"""The platform under every part: the one configuration (config.py), the one event format (events.py), logging
with the call's uniqueid and masked numbers (logs.py, privacy.py), the utility's clock (periods.py) and the policy
files (policies.py, policy_file.py). Above the parts: the Asterisk runtime (asterisk.py), the processes of a whole
hotline started and supervised in order (stack.py, processes.py, redis_server.py) and their health (status.py)."""
