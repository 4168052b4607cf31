-- ARGV: prefix, node_id. Milliseconds since the node's last heartbeat (Redis's own clock:
-- its ttl minus what is left of it), or false when it is not registered (or was
-- registered by a version that did not store its ttl).
local key = node_key(ARGV[2])
local ttl_ms = redis.call('HGET', key, 'ttl_ms')
local left_ms = redis.call('PTTL', key)
if not ttl_ms or left_ms < 0 then return false end
return tonumber(ttl_ms) - left_ms
