-- ARGV: prefix, mode, capacity, room_id, code, now_s, room_expires_at_s, seat_id ('' for
-- none), seat_expires_at_s. The room and its first seat are made in one step: a refusal
-- leaves nothing behind.
-- Returns {'OK', node_id} or {'CODE_TAKEN'} or {'NO_CAPACITY'} or {'ROOM_EXISTS'}.
local mode, capacity, room_id, code, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local room_expires_at, seat_id, seat_expires_at = ARGV[7], ARGV[8], ARGV[9]
drop_dead_nodes()
local holder = redis.call('GET', code_key(code))
if holder and not room_row(holder, now) then
  redis.call('DEL', code_key(code))  -- its room expired or went with its node
  holder = nil
end
if holder then return {'CODE_TAKEN'} end
local node_id = roomiest_node(now)
if not node_id then return {'NO_CAPACITY'} end
if redis.call('EXISTS', room_key(room_id)) == 1 then return {'ROOM_EXISTS'} end
create_room(room_id, node_id, mode, capacity, code, room_expires_at, now)
if seat_id ~= '' then hold(room_id, seat_id, seat_expires_at, now) end
return {'OK', node_id}
