/*
 * The append of one batch, run by Redis as one script: nothing else runs meanwhile, so a
 * batch lands whole, and a repeated (source, id) is found in the identity hash whoever
 * appended it first. Every event is checked before anything is written, so a conflict
 * appends nothing.
 *
 * KEYS: the identity hash, the head hash, then the stream key of each shard the batch touches.
 * ARGV: the change channel, the number of shard keys m, the number of events n, the
 * position (`stream/shard`) of each shard key, then per event its identity, its digest,
 * the index (from 1) of its shard key and its JSON text.
 *
 * Records get the stream ID `0-N`: N counts up per shard from 1, and is the seq.
 * Answers {'conflict', index} or {'ok', receipts, head}, each receipt {duplicate (0/1),
 * position, seq}, the head as HGETALL gives it.
 */
export const appendScript = `
local ids, head = KEYS[1], KEYS[2]
local channel = ARGV[1]
local m, n = tonumber(ARGV[2]), tonumber(ARGV[3])
local base = 3 + m
local plan, firstInBatch = {}, {}
for i = 1, n do
  local at = base + (i - 1) * 4
  local identity, digest = ARGV[at + 1], ARGV[at + 2]
  local stored = redis.call('HGET', ids, identity)
  if stored then
    local storedDigest, position, seq = string.match(stored, '^(%S+) (%S+) (%S+)$')
    if storedDigest ~= digest then return {'conflict', i - 1} end
    plan[i] = {position, seq}
  else
    local first = firstInBatch[identity]
    if first then
      if ARGV[base + (first - 1) * 4 + 2] ~= digest then return {'conflict', i - 1} end
      plan[i] = first
    else
      firstInBatch[identity] = i
      plan[i] = 0
    end
  end
end
local receipts, touched = {}, {}
for i = 1, n do
  local at = base + (i - 1) * 4
  local p = plan[i]
  if p == 0 then
    local k = tonumber(ARGV[at + 3])
    local id = redis.call('XADD', KEYS[2 + k], '0-*', 'e', ARGV[at + 4])
    local seq = string.sub(id, 3)
    local position = ARGV[3 + k]
    redis.call('HSET', ids, ARGV[at + 1], ARGV[at + 2] .. ' ' .. position .. ' ' .. seq)
    redis.call('HSET', head, position, seq)
    touched[position] = true
    receipts[i] = {0, position, seq}
  elseif type(p) == 'number' then
    receipts[i] = {1, receipts[p][2], receipts[p][3]}
  else
    receipts[i] = {1, p[1], p[2]}
  end
end
for position in pairs(touched) do redis.call('PUBLISH', channel, position) end
return {'ok', receipts, redis.call('HGETALL', head)}
`;
