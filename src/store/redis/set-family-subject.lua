-- Replaces the subject snapshot (roles, scopes, time read) of a live family, unless the one it
-- holds was read later. Never creates the hash: a dead family stays dead. KEYS[1] family hash.
-- ARGV: 1 now (ms), 2 roles, 3 scopes, 4 time the snapshot was read (ms). Returns 1 or 0.
local f = redis.call('HMGET', KEYS[1], 'state', 'abs', 'idle', 'sat')
if not f[1] or f[1] == 'revoked' then return 0 end
local now = tonumber(ARGV[1])
if now >= tonumber(f[2]) or now >= tonumber(f[3]) then return 0 end
if f[4] and tonumber(f[4]) > tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], 'sr', ARGV[2], 'ss', ARGV[3], 'sat', ARGV[4])
return 1
