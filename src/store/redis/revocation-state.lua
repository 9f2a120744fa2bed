-- HOT PATH (introspection, forward-auth, the self-service API): everything one access token's
-- check reads, as one command. Reads only. Every key is in the token subject's slot; on one node
-- the previous layout's copies come too (rolling upgrade, keys.ts).
-- KEYS[1] the slot's generation marker   KEYS[2] the token's blacklist entry
-- KEYS[3] the user's epoch hash          KEYS[4] the client's epoch copy in this slot
-- then, when ARGV[1] is '1', the token's family hash; then, when given, the previous layout's
-- blacklist entry, user epoch and client epoch.
-- Returns, in key order: the marker, the blacklist entry, {epoch, exp} of each epoch hash, the
-- family's state (false when none was asked for or the family is gone).
local reply = {
  redis.call('GET', KEYS[1]),
  redis.call('GET', KEYS[2]),
  redis.call('HMGET', KEYS[3], 'epoch', 'exp'),
  redis.call('HMGET', KEYS[4], 'epoch', 'exp'),
}
local next_key = 5
if ARGV[1] == '1' then
  reply[5] = redis.call('HGET', KEYS[5], 'state')
  next_key = 6
else
  reply[5] = false
end
if #KEYS >= next_key + 2 then
  reply[6] = redis.call('GET', KEYS[next_key])
  reply[7] = redis.call('HMGET', KEYS[next_key + 1], 'epoch', 'exp')
  reply[8] = redis.call('HMGET', KEYS[next_key + 2], 'epoch', 'exp')
end
return reply
