-- ARGV: prefix, mode, capacity, new_room_id, seat_id, expires_at_s, now_s, room_expires_at_s
-- Returns {'OK', room_id, node_id, created} or {'NO_CAPACITY'} or {'ROOM_EXISTS'}.
local mode, capacity, new_room_id = ARGV[2], ARGV[3], ARGV[4]
local seat_id, expires_at, now, room_expires_at = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
drop_dead_nodes()

local free_on_node = {}
local best, best_node, best_free = nil, nil, 0
for _, room_id in ipairs(sorted_members(public_key(mode))) do
  local fields = redis.call('HMGET', room_key(room_id), 'node_id', 'capacity', 'players',
    'expires_at')
  local node_id = fields[1]
  if not node_id then
    forget_index(room_id, public_key(mode))
  elseif not expired(room_id, fields[4], now) then
    if free_on_node[node_id] == nil then free_on_node[node_id] = node_free(node_id, now) end
    if free_on_node[node_id] > 0 then
      local free = tonumber(fields[2]) - tonumber(fields[3]) - held(room_id, now)
      -- The fewest free seats wins: rooms fill up instead of spreading players thin.
      if free > 0 and (best == nil or free < best_free) then
        best, best_node, best_free = room_id, node_id, free
      end
    end
  end
end
if best then
  hold(best, seat_id, expires_at, now)
  return {'OK', best, best_node, 0}
end

local node_id = roomiest_node(now)
if not node_id then return {'NO_CAPACITY'} end
if redis.call('EXISTS', room_key(new_room_id)) == 1 then return {'ROOM_EXISTS'} end
create_room(new_room_id, node_id, mode, capacity, '', room_expires_at, now)
hold(new_room_id, seat_id, expires_at, now)
return {'OK', new_room_id, node_id, 1}
