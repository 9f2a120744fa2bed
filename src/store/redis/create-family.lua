-- A login's new refresh-token family, and the per-user, per-client session limit, in one atomic
-- step: the family is written and indexed, the user's dead families leave the index, and the
-- oldest live families of the same client beyond the limit are revoked (never the new one).
-- KEYS[1] family hash   KEYS[2] user's family index (zset id -> created ms, same hash tag)
-- KEYS[3] (optional; standalone and Sentinel only) the index of the layout before user tags
-- ARGV: 1 family id, 2 client id, 3 now, 4 idle expiry (ms, absolute), 5 absolute ttl (ms),
--       6 max families per user and client, 7 revoked retention (ms), 8 key prefix,
--       9.. family hash field, value, ...
-- Returns the ids of the families revoked to make room. With KEYS[3], a revoked family with a
-- user tag is also marked revoked where the previous release looks (rf:{id}; rolling upgrade).
-- A family's keys follow from its id, as in keys.ts: ids of 24 characters end with their user's
-- tag; ids of 22 are from before tags.
local prefix = ARGV[8]
local function family_keys(id)
  if #id == 24 then
    local slot = '{u:' .. string.sub(id, 23) .. '}'
    return prefix .. slot .. ':rf:' .. id, prefix .. slot .. ':rfu:' .. id
  end
  return prefix .. 'rf:{' .. id .. '}', prefix .. 'rf:{' .. id .. '}:used'
end

local id, client, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local fields = {}
for i = 9, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) - now)
redis.call('ZADD', KEYS[2], now, id)
redis.call('PEXPIRE', KEYS[2], ARGV[5])

local same_client = {}
for k = 2, #KEYS do
  for _, other in ipairs(redis.call('ZRANGE', KEYS[k], 0, -1)) do
    if other ~= id then
      local key, used = family_keys(other)
      local f = redis.call('HMGET', key, 'state', 'abs', 'idle', 'cid', 'created')
      if not f[1] or f[1] == 'revoked' or now >= tonumber(f[2]) or now >= tonumber(f[3]) then
        redis.call('ZREM', KEYS[k], other)
      elseif f[4] == client then
        same_client[#same_client + 1] = { id = other, key = key, used = used, created = tonumber(f[5]) }
      end
    end
  end
end

local evicted = {}
local excess = #same_client + 1 - tonumber(ARGV[6])
if excess > 0 then
  table.sort(same_client, function(a, b) return a.created < b.created end)
  for i = 1, math.min(excess, #same_client) do
    local old = same_client[i]
    redis.call('HSET', old.key, 'state', 'revoked', 'revoked_at', ARGV[3], 'box', '')
    redis.call('PEXPIRE', old.key, ARGV[7])
    redis.call('DEL', old.used)
    if KEYS[3] and #old.id == 24 then
      redis.call('HSET', prefix .. 'rf:{' .. old.id .. '}', 'state', 'revoked')
      redis.call('PEXPIRE', prefix .. 'rf:{' .. old.id .. '}', ARGV[7])
    end
    evicted[#evicted + 1] = old.id
  end
end
return evicted
