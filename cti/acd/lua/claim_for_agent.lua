-- ARGV: agent, now, token. Offers a ready agent the best waiting call among all its groups.
local agent, now, token = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', 'acd:agent:' .. agent, 'state') ~= 'ready' then return nil end
local best, best_score = nil, nil
for _, g in ipairs(groups_of(agent)) do
  local head = redis.call('ZRANGE', 'acd:waiting:' .. g, 0, 0, 'WITHSCORES')
  if #head > 0 and (best_score == nil or tonumber(head[2]) < best_score) then
    best, best_score = head[1], tonumber(head[2])
  end
end
if best == nil then return nil end
local o = offer(best, agent, now, token)
return {best, o[1], o[2], o[3], o[4], o[5], o[6]}
