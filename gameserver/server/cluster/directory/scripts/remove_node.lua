-- ARGV: prefix, node_id
drop_node(ARGV[2])
return 1
