-- ARGV: prefix, now_s, selector ('all', 'mode', 'room' or 'code'), value.
-- Returns a list of room rows (see room_row) by id, on live nodes only.
local now, selector, value = ARGV[2], ARGV[3], ARGV[4]
drop_dead_nodes()
local room_ids
if selector == 'room' then
  room_ids = {value}
elseif selector == 'code' then
  local room_id = redis.call('GET', code_key(value))
  room_ids = {}
  if room_id then room_ids = {room_id} end
else
  room_ids = sorted_members(ROOMS)
end
local rows = {}
for _, room_id in ipairs(room_ids) do
  local row = room_row(room_id, now)
  if row and (selector ~= 'mode' or row[3] == value) then rows[#rows + 1] = row end
end
return rows
