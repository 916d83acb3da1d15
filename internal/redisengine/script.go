package redisengine

import "github.com/redis/rueidis"

// Every key of a topic carries the hash tag {<prefix>:<topic>}, so that
// under Redis Cluster they share a slot, and the script can touch them all:
//
//	{p:t}:seq    the last seq given (INCRBY)
//	{p:t}:epoch  the epoch; its absence means the topic's data is gone
//	{p:t}:hist   the history, a stream whose entry ids are "0-<seq>"
//	{p:t}:ch     the sharded pub/sub channel (SPUBLISH, SSUBSCRIBE)
//
// <prefix>:topics is the set of topic names, in a slot of its own.

// publishScript accepts one batch. KEYS: seq, epoch, hist, ch. ARGV: a
// new epoch to use if the topic has none, the history length, then one
// body per message. It answers {first seq, epoch, created (1 or 0)}.
//
// Nothing in it fails after the INCRBY on data this package wrote: the
// seq key and the epoch are created and deleted together, so XADD's ids
// always grow.
var publishScript = rueidis.NewLuaScript(`
local seqk, epk, hk, ch = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local n = #ARGV - 2
local epoch = redis.call('GET', epk)
local created = 0
if (not epoch) or redis.call('EXISTS', seqk) == 0 then
  epoch = ARGV[1]
  redis.call('DEL', seqk, hk)
  redis.call('SET', epk, epoch)
  created = 1
end
local last = redis.call('INCRBY', seqk, n)
local first = last - n + 1
local maxlen = ARGV[2]
local parts = {epoch .. ':' .. first .. ':'}
for i = 1, n do
  redis.call('XADD', hk, 'MAXLEN', maxlen, '0-' .. (first + i - 1), 'm', ARGV[i + 2])
  parts[i + 1] = ARGV[i + 2]
end
redis.call('SPUBLISH', ch, table.concat(parts))
return {first, epoch, created}
`)

// readScript reads a topic's state and history. KEYS: seq, epoch, hist.
// ARGV: "tail" (the last count entries, newest first) or "from" (count
// entries from seq ARGV[2] on, oldest first), the seq, count, and a new
// epoch to create the topic with if it has none ("": do not create). It
// answers {epoch or "", head, created, entries}.
var readScript = rueidis.NewLuaScript(`
local seqk, epk, hk = KEYS[1], KEYS[2], KEYS[3]
local epoch = redis.call('GET', epk)
local created = 0
if (not epoch) or redis.call('EXISTS', seqk) == 0 then
  if ARGV[4] == '' then
    return {'', 0, 0, {}}
  end
  epoch = ARGV[4]
  redis.call('DEL', hk)
  redis.call('SET', seqk, 0)
  redis.call('SET', epk, epoch)
  created = 1
end
local head = tonumber(redis.call('GET', seqk))
local entries
if ARGV[1] == 'tail' then
  entries = redis.call('XREVRANGE', hk, '+', '-', 'COUNT', ARGV[3])
else
  entries = redis.call('XRANGE', hk, '0-' .. ARGV[2], '+', 'COUNT', ARGV[3])
end
return {epoch, head, created, entries}
`)

// statsScript answers {epoch or "", head, oldest entry id or ""}.
// KEYS: seq, epoch, hist.
var statsScript = rueidis.NewLuaScriptReadOnly(`
local epoch = redis.call('GET', KEYS[2])
if (not epoch) or redis.call('EXISTS', KEYS[1]) == 0 then
  return {'', 0, ''}
end
local head = tonumber(redis.call('GET', KEYS[1]))
local first = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)
local oldest = ''
if #first > 0 then
  oldest = first[1][1]
end
return {epoch, head, oldest}
`)

// keys are one topic's key and channel names.
type keys struct {
	seq, epoch, hist, ch string
}

func (e *Engine) keysOf(topic string) keys {
	tag := "{" + e.cfg.Prefix + ":" + topic + "}:"
	return keys{seq: tag + "seq", epoch: tag + "epoch", hist: tag + "hist", ch: tag + "ch"}
}
