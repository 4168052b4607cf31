-- ARGV: prefix. Returns {{node_id, ws_url, http_url, capacity, load}, ...} by id.
drop_dead_nodes()
local rows = {}
for _, node_id in ipairs(sorted_members(NODES)) do
  local fields = redis.call('HMGET', node_key(node_id), 'ws_url', 'http_url', 'capacity', 'load')
  rows[#rows + 1] = {node_id, fields[1], fields[2], tonumber(fields[3]), tonumber(fields[4])}
end
return rows
