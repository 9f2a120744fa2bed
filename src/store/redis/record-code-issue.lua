-- Records what the first use of an authorization code issued, so that a replay can revoke it.
-- KEYS[1] the code's hash key. ARGV: 1 now (ms), 2 access token jti, 3 its exp (s),
-- 4 refresh-token family id ('' for none).
-- Returns 'replayed' when a replay came since the redemption (the caller revokes what it just
-- issued), also when the code is no longer known (nothing then vouches that none came), else
-- 'recorded'. A code not yet redeemed is an error.
local now = tonumber(ARGV[1])
local f = redis.call('HMGET', KEYS[1], 'state', 'until')
if not f[1] or now >= tonumber(f[2]) then return 'replayed' end
if f[1] == 'live' then return redis.error_reply('authorization code issue recorded before its redemption') end
redis.call('HSET', KEYS[1], 'ijti', ARGV[2], 'iexp', ARGV[3], 'ifam', ARGV[4])
if f[1] == 'replayed' then return 'replayed' end
return 'recorded'
