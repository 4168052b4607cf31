-- ARGV: prefix, room_id, seat_id, now_s. Returns 1 while the seat is held in a live room.
local room_id, seat_id, now = ARGV[2], ARGV[3], ARGV[4]
if not room_row(room_id, now) then return 0 end
local expires_at = redis.call('ZSCORE', seats_key(room_id), seat_id)
if expires_at and tonumber(expires_at) > tonumber(now) then return 1 end
return 0
