-- ARGV: prefix, room_id. Never below zero, and never brings a removed room back.
local players = tonumber(redis.call('HGET', room_key(ARGV[2]), 'players') or 0)
if players > 0 then redis.call('HINCRBY', room_key(ARGV[2]), 'players', -1) end
return 1
