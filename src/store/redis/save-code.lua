-- Keeps an authorization code (RFC 6749 §4.1.2) until it expires. KEYS[1] the code's hash key.
-- ARGV: 1 now (ms), 2 the code's expiry (ms, absolute), 3.. code hash field, value, ...
-- Returns 1 when saved, 0 for a code already expired. A hash that is still known is an error:
-- saving it again would bring a spent code back. `until` is when the entry stops meaning
-- anything (the caller's clock decides, as on every backend); the key's TTL only collects it.
local now, expires = tonumber(ARGV[1]), tonumber(ARGV[2])
local known = redis.call('HGET', KEYS[1], 'until')
if known and now < tonumber(known) then return redis.error_reply('authorization code already saved') end
if now >= expires then return 0 end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'live', 'until', ARGV[2], unpack(fields))
redis.call('PEXPIRE', KEYS[1], expires - now)
return 1
