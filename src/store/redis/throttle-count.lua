-- A subject's failures in a fixed window, across addresses (never a lock: alerts and delays).
-- KEYS[1] subject hash {count, ends}   ARGV: 1 now (ms), 2 window (ms).
-- The window's end is kept in the hash (the caller's clock decides, as on every backend); the
-- key's TTL only collects it. Returns the count in the current window.
local now = tonumber(ARGV[1])
local ends = tonumber(redis.call('HGET', KEYS[1], 'ends') or '0')
if ends <= now then
  redis.call('HSET', KEYS[1], 'count', 1, 'ends', now + tonumber(ARGV[2]))
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return redis.call('HINCRBY', KEYS[1], 'count', 1)
