-- ARGV: prefix, code, seat_id, expires_at_s, now_s
-- Returns {'OK', room_id, node_id} or {'UNKNOWN_ROOM'} or {'ROOM_FULL'}.
local code, seat_id, expires_at, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
drop_dead_nodes()
local room_id = redis.call('GET', code_key(code))
if not room_id then return {'UNKNOWN_ROOM'} end
local row = room_row(room_id, now)
if not row then
  redis.call('DEL', code_key(code))
  return {'UNKNOWN_ROOM'}
end
if row[4] - row[5] - row[6] <= 0 then return {'ROOM_FULL'} end
hold(room_id, seat_id, expires_at, now)
return {'OK', room_id, row[2]}
