-- ARGV: prefix, mode, capacity, room_id, code, now_s
-- Returns {'OK', node_id} or {'CODE_TAKEN'} or {'NO_CAPACITY'} or {'ROOM_EXISTS'}.
local mode, capacity, room_id, code, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
drop_dead_nodes()
if redis.call('EXISTS', code_key(code)) == 1 then return {'CODE_TAKEN'} end
local node_id = roomiest_node(now)
if not node_id then return {'NO_CAPACITY'} end
if redis.call('EXISTS', room_key(room_id)) == 1 then return {'ROOM_EXISTS'} end
create_room(room_id, node_id, mode, capacity, code)
return {'OK', node_id}
