-- ARGV: prefix, room_id
drop_room(ARGV[2])
return 1
