-- KEYS: acd:router:{app}; ARGV: router. The router lets go of the app, if it still holds it.
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
