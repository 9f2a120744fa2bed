-- Marks a live family as re-authenticated now (its user proved their password again in it), so
-- a password change made in that same session does not end it. KEYS[1] family hash.
-- ARGV: 1 now (ms). Returns 1 when marked, 0 when the family is unknown, revoked or expired.
local f = redis.call('HMGET', KEYS[1], 'state', 'abs', 'idle')
if not f[1] or f[1] == 'revoked' then return 0 end
local now = tonumber(ARGV[1])
if now >= tonumber(f[2]) or now >= tonumber(f[3]) then return 0 end
redis.call('HSET', KEYS[1], 'auth', ARGV[1])
return 1
