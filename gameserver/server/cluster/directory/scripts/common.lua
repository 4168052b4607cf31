-- Shared by every directory script: it is prepended to each one before loading.
-- ARGV[1] is always the key prefix. Keys are built here rather than passed in KEYS,
-- because which rooms a booking touches is only known once it reads the indexes; the
-- scripts therefore need a single Redis server, not a Redis Cluster.

local P = ARGV[1]
local NODES = P .. 'nodes'
local ROOMS = P .. 'rooms'

local function node_key(node_id) return P .. 'node:' .. node_id end
local function node_rooms_key(node_id) return P .. 'node-rooms:' .. node_id end
local function room_key(room_id) return P .. 'room:' .. room_id end
local function seats_key(room_id) return P .. 'seats:' .. room_id end
local function public_key(mode) return P .. 'public:' .. mode end
local function code_key(code) return P .. 'code:' .. code end

local function sorted_members(key)
  local members = redis.call('SMEMBERS', key)
  table.sort(members)  -- SMEMBERS order is arbitrary; ties must break the same way everywhere
  return members
end

-- Seats in a room still held at `now`; expired holds are deleted on the way.
local function held(room_id, now)
  redis.call('ZREMRANGEBYSCORE', seats_key(room_id), '-inf', now)
  return redis.call('ZCARD', seats_key(room_id))
end

-- Forget one id in the indexes when its room hash is gone (its Redis TTL ran out).
local function forget_index(room_id, index_key)
  redis.call('SREM', index_key, room_id)
  redis.call('SREM', ROOMS, room_id)
end

local function drop_room(room_id)
  local fields = redis.call('HMGET', room_key(room_id), 'node_id', 'mode', 'private', 'code')
  local node_id, mode, private, code = fields[1], fields[2], fields[3], fields[4]
  redis.call('DEL', room_key(room_id), seats_key(room_id))
  redis.call('SREM', ROOMS, room_id)
  if node_id then
    redis.call('SREM', node_rooms_key(node_id), room_id)
    if private == '1' then
      if redis.call('GET', code_key(code)) == room_id then redis.call('DEL', code_key(code)) end
    else
      redis.call('SREM', public_key(mode), room_id)
    end
  end
end

local function drop_node(node_id)
  for _, room_id in ipairs(redis.call('SMEMBERS', node_rooms_key(node_id))) do
    drop_room(room_id)
  end
  redis.call('DEL', node_key(node_id), node_rooms_key(node_id))
  redis.call('SREM', NODES, node_id)
end

-- A node whose hash expired stopped heart-beating: forget it and its rooms.
local function drop_dead_nodes()
  for _, node_id in ipairs(redis.call('SMEMBERS', NODES)) do
    if redis.call('EXISTS', node_key(node_id)) == 0 then drop_node(node_id) end
  end
end

-- A room's keys carry its expiry as a Redis TTL too, so that a room nobody looks at
-- again still goes; the 'expires_at' field (caller's clock) is what scripts compare.
local function set_room_expiry(room_id, expires_at, now)
  redis.call('HSET', room_key(room_id), 'expires_at', expires_at)
  local ms = math.max(1, math.ceil((tonumber(expires_at) - tonumber(now)) * 1000))
  redis.call('PEXPIRE', room_key(room_id), ms)
  redis.call('PEXPIRE', seats_key(room_id), ms)
  local code = redis.call('HGET', room_key(room_id), 'code')
  if code and code ~= '' then redis.call('PEXPIRE', code_key(code), ms) end
end

-- True (and the room dropped) when the room's expiry has passed at `now`. A room written
-- without one (by an older version) never expires this way.
local function expired(room_id, expires_at, now)
  if not expires_at or tonumber(expires_at) > tonumber(now) then return false end
  drop_room(room_id)
  return true
end

-- Hold a seat; the room lives at least as long as the seat.
local function hold(room_id, seat_id, expires_at, now)
  redis.call('ZADD', seats_key(room_id), expires_at, seat_id)
  local room_expires = tonumber(redis.call('HGET', room_key(room_id), 'expires_at') or 0)
  set_room_expiry(room_id, math.max(room_expires, tonumber(expires_at)), now)
end

-- capacity - max(reported load, players in its rooms) - seats held in its rooms
local function node_free(node_id, now)
  local fields = redis.call('HMGET', node_key(node_id), 'capacity', 'load')
  local players, held_seats = 0, 0
  for _, room_id in ipairs(redis.call('SMEMBERS', node_rooms_key(node_id))) do
    local room = redis.call('HMGET', room_key(room_id), 'players', 'expires_at')
    if not room[1] then
      forget_index(room_id, node_rooms_key(node_id))
    elseif not expired(room_id, room[2], now) then
      players = players + tonumber(room[1])
      held_seats = held_seats + held(room_id, now)
    end
  end
  return tonumber(fields[1]) - math.max(tonumber(fields[2]), players) - held_seats
end

-- The live node with the most free capacity (lowest id on a tie), or nil when all are full.
local function roomiest_node(now)
  local chosen, chosen_free = nil, 0
  for _, node_id in ipairs(sorted_members(NODES)) do
    local free = node_free(node_id, now)
    if free > chosen_free then chosen, chosen_free = node_id, free end
  end
  return chosen
end

local function create_room(room_id, node_id, mode, capacity, code, expires_at, now)
  local private = '0'
  if code ~= '' then private = '1' end
  redis.call('HSET', room_key(room_id), 'node_id', node_id, 'mode', mode,
    'capacity', capacity, 'players', 0, 'private', private, 'code', code)
  redis.call('SADD', ROOMS, room_id)
  redis.call('SADD', node_rooms_key(node_id), room_id)
  if code == '' then
    redis.call('SADD', public_key(mode), room_id)
  else
    redis.call('SET', code_key(code), room_id)
  end
  set_room_expiry(room_id, expires_at, now)
end

-- {room_id, node_id, mode, capacity, players, held, private, code}, or nil when the
-- room is unknown or expired
local function room_row(room_id, now)
  local fields = redis.call('HMGET', room_key(room_id),
    'node_id', 'mode', 'capacity', 'players', 'private', 'code', 'expires_at')
  if not fields[1] then
    redis.call('SREM', ROOMS, room_id)
    return nil
  end
  if expired(room_id, fields[7], now) then return nil end
  return {room_id, fields[1], fields[2], tonumber(fields[3]), tonumber(fields[4]),
    held(room_id, now), fields[5], fields[6]}
end
