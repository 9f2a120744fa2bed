-- After a failed credential check: count it on the pair and take one from the address bucket.
-- KEYS[1] pair hash {fails, until, exp}   KEYS[2] address bucket hash {tokens, at}  (same hash tag)
-- ARGV: 1 now (ms), 2 pair threshold (0 = never lock), 3 base lock (ms), 4 max lock (ms),
--       5 pair memory (ms), 6 bucket capacity (0 = no address limit), 7 refill per ms
-- Returns {pair failures, locked until (ms, 0 = not locked), address remaining (-1 = no limit)}.
local now = tonumber(ARGV[1])
-- A pair is forgotten `pair memory` after its last failure, by the caller's clock ('exp').
local exp = tonumber(redis.call('HGET', KEYS[1], 'exp') or '0')
if exp <= now then redis.call('DEL', KEYS[1]) end
local fails = redis.call('HINCRBY', KEYS[1], 'fails', 1)
local threshold = tonumber(ARGV[2])
local lock = 0
if threshold > 0 and fails >= threshold then
  lock = math.min(tonumber(ARGV[3]) * 2 ^ (fails - threshold), tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], 'until', now + lock)
end
local memory = math.max(tonumber(ARGV[5]), lock)
redis.call('HSET', KEYS[1], 'exp', now + memory)
redis.call('PEXPIRE', KEYS[1], memory)
local lockedUntil = 0
if lock > 0 then lockedUntil = now + lock end

local capacity = tonumber(ARGV[6])
local remaining = -1
if capacity > 0 then
  local rate = tonumber(ARGV[7])
  local bucket = redis.call('HMGET', KEYS[2], 'tokens', 'at')
  local tokens = capacity
  if bucket[1] then tokens = math.min(capacity, tonumber(bucket[1]) + math.max(0, now - tonumber(bucket[2])) * rate) end
  tokens = math.max(0, tokens - 1)
  -- Stored as a string: Lua numbers returned or stored as integers would lose the fraction.
  redis.call('HSET', KEYS[2], 'tokens', string.format('%.6f', tokens), 'at', now)
  redis.call('PEXPIRE', KEYS[2], math.ceil((capacity - tokens) / rate) + 1000)
  remaining = math.floor(tokens)
end
return {fails, lockedUntil, remaining}
