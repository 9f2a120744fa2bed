-- A live browser session, its idle expiry moved to now + idle ttl (never past its absolute end)
-- in the same step. KEYS[1] session hash. ARGV: 1 now (ms), 2 idle ttl (ms).
-- Returns the session's fields as HGETALL, or {} when it is unknown, ended or expired.
local now = tonumber(ARGV[1])
local f = redis.call('HMGET', KEYS[1], 'abs', 'idle')
if not f[1] then return {} end
local abs = tonumber(f[1])
if now >= abs or now >= tonumber(f[2]) then return {} end
local idle = math.min(now + tonumber(ARGV[2]), abs)
redis.call('HSET', KEYS[1], 'last', ARGV[1], 'idle', idle)
local out = redis.call('HGETALL', KEYS[1])
redis.call('PEXPIRE', KEYS[1], math.max(idle - now, 1))
return out
