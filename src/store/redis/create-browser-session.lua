-- Starts a browser session and lists it under its user, in one step.
-- KEYS[1] session hash   KEYS[2] user's session index (zset id -> absolute expiry ms, same tag)
-- ARGV: 1 session id, 2 user id, 3 now (ms), 4 absolute expiry (ms), 5 idle ttl (ms).
-- Index entries past their absolute expiry leave it on the way. Returns 1, or 0 when the session
-- would already be over. The caller's clock decides liveness; TTLs only collect dead keys.
local now, abs = tonumber(ARGV[3]), tonumber(ARGV[4])
local idle = math.min(now + tonumber(ARGV[5]), abs)
if idle <= now then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'uid', ARGV[2], 'created', ARGV[3], 'auth', ARGV[3], 'last', ARGV[3], 'abs', ARGV[4], 'idle', idle)
redis.call('PEXPIRE', KEYS[1], idle - now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
if redis.call('PTTL', KEYS[2]) < abs - now then redis.call('PEXPIRE', KEYS[2], abs - now) end
return 1
