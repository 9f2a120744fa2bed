-- A charged attempt that did not fail. 'succeeded': the pair is forgiven (failures and lock);
-- 'cancelled': its count is taken back (and a lock it started, when that leaves the pair under
-- the threshold). Either way the address gets its token back.
-- KEYS[1] pair hash {fails, until, exp}   KEYS[2] address bucket hash {tokens, at}  (same hash tag)
-- ARGV: 1 outcome, 2 now (ms), 3 pair threshold, 4 bucket capacity, 5 refill per ms
local now = tonumber(ARGV[2])
if ARGV[1] == 'succeeded' then
  redis.call('DEL', KEYS[1])
else
  local pair = redis.call('HMGET', KEYS[1], 'fails', 'exp')
  if tonumber(pair[2] or '0') > now and tonumber(pair[1] or '0') > 0 then
    local fails = redis.call('HINCRBY', KEYS[1], 'fails', -1)
    local threshold = tonumber(ARGV[3])
    if threshold == 0 or fails < threshold then redis.call('HSET', KEYS[1], 'until', 0) end
  end
end
local capacity = tonumber(ARGV[4])
if capacity > 0 then
  local bucket = redis.call('HMGET', KEYS[2], 'tokens', 'at')
  if bucket[1] then
    local rate = tonumber(ARGV[5])
    local tokens = math.min(capacity, tonumber(bucket[1]) + math.max(0, now - tonumber(bucket[2])) * rate + 1)
    redis.call('HSET', KEYS[2], 'tokens', string.format('%.6f', tokens), 'at', now)
  end
end
return 1
