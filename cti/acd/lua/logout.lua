-- ARGV: agent. Refused while the agent rings or talks.
local agent = ARGV[1]
local akey = 'acd:agent:' .. agent
local state = redis.call('HGET', akey, 'state')
if not state then return 0 end
if state == 'ringing' or state == 'busy' then return -1 end
remove_agent(agent)
return 1
