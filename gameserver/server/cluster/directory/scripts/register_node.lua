-- ARGV: prefix, node_id, ws_url, http_url, capacity, load, ttl_ms
local node_id = ARGV[2]
-- A node that missed its ttl comes back without its old rooms, as a fresh node.
drop_dead_nodes()
redis.call('HSET', node_key(node_id), 'ws_url', ARGV[3], 'http_url', ARGV[4],
  'capacity', ARGV[5], 'load', ARGV[6], 'ttl_ms', ARGV[7])
redis.call('PEXPIRE', node_key(node_id), ARGV[7])
redis.call('SADD', NODES, node_id)
return 1
