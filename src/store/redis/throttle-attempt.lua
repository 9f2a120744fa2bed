-- Before a credential check: refuse, or let the attempt through charged as a failure, atomically
-- (concurrent guesses cannot all pass a check that has not yet seen one of them fail).
-- KEYS[1] pair hash {fails, until, exp}   KEYS[2] address bucket hash {tokens, at}  (same hash tag)
-- ARGV: 1 now (ms), 2 pair threshold (0 = never lock), 3 base lock (ms), 4 max lock (ms),
--       5 pair memory (ms), 6 bucket capacity (0 = no address limit), 7 refill per ms
-- Returns {'pair_locked' | 'address_exhausted', retry after ms}
--      or {'ok', pair failures, locked until (0 = not), address remaining (-1 = no limit)}.
-- Expiry is decided by the caller's clock ('exp', 'at'); the TTLs only collect the keys.
local now = tonumber(ARGV[1])
local pair = redis.call('HMGET', KEYS[1], 'fails', 'until', 'exp')
local fails, lockedUntil = 0, 0
if tonumber(pair[3] or '0') > now then
  fails = tonumber(pair[1] or '0')
  lockedUntil = tonumber(pair[2] or '0')
end
if lockedUntil > now then return {'pair_locked', lockedUntil - now} end

local capacity = tonumber(ARGV[6])
local remaining = -1
if capacity > 0 then
  local rate = tonumber(ARGV[7])
  local bucket = redis.call('HMGET', KEYS[2], 'tokens', 'at')
  local tokens = capacity
  if bucket[1] then tokens = math.min(capacity, tonumber(bucket[1]) + math.max(0, now - tonumber(bucket[2])) * rate) end
  if tokens < 1 then return {'address_exhausted', math.ceil((1 - tokens) / rate)} end
  tokens = tokens - 1
  -- A string: a Lua number stored or returned by Redis would lose its fraction.
  redis.call('HSET', KEYS[2], 'tokens', string.format('%.6f', tokens), 'at', now)
  redis.call('PEXPIRE', KEYS[2], math.ceil((capacity - tokens) / rate) + 1000)
  remaining = math.floor(tokens)
end

fails = fails + 1
local threshold = tonumber(ARGV[2])
local lock = 0
if threshold > 0 and fails >= threshold then lock = math.min(tonumber(ARGV[3]) * 2 ^ (fails - threshold), tonumber(ARGV[4])) end
local lockEnds = 0
if lock > 0 then lockEnds = now + lock end
local memory = math.max(tonumber(ARGV[5]), lock)
redis.call('HSET', KEYS[1], 'fails', fails, 'until', lockEnds, 'exp', now + memory)
redis.call('PEXPIRE', KEYS[1], memory)
return {'ok', fails, lockEnds, remaining}
