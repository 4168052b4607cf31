-- ARGV: prefix, node_id, ttl_s, now_s, room_id...
-- Each named live room of the node expires ttl_s from now (never sooner than it did).
local node_id, ttl, now = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 5, #ARGV do
  local room_id = ARGV[i]
  local fields = redis.call('HMGET', room_key(room_id), 'node_id', 'expires_at')
  if fields[1] == node_id and not expired(room_id, fields[2], now) then
    set_room_expiry(room_id, math.max(tonumber(fields[2]), now + ttl), now)
  end
end
return 1
