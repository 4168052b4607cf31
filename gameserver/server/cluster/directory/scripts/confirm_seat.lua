-- ARGV: prefix, room_id, seat_id, now_s. Returns 1 when the held seat became a player.
local room_id, seat_id, now = ARGV[2], ARGV[3], ARGV[4]
if not room_row(room_id, now) then return 0 end
local expires_at = redis.call('ZSCORE', seats_key(room_id), seat_id)
if not expires_at then return 0 end
redis.call('ZREM', seats_key(room_id), seat_id)
if tonumber(expires_at) <= tonumber(now) then return 0 end
redis.call('HINCRBY', room_key(room_id), 'players', 1)
return 1
