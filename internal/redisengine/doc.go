// Package redisengine is the redis engine: several Ringcast instances
// share topics through Redis (or Valkey), with the rueidis client and its
// auto-pipelining. It implements broker.Engine; the broker calls it, and
// it feeds the broker's local topics (mirrors). It imports broker and
// nothing of ingress or egress.
//
// # Data in Redis
//
// Each topic has a seq counter, an epoch, a capped history stream (entry
// id "0-<seq>", MAXLEN history_size) and a sharded pub/sub channel, all
// under the hash tag {<prefix>:<topic>} so that they share a Redis
// Cluster slot. One Lua script per publish or batch (EVALSHA) creates the
// epoch if missing (a Redis that lost its data gives a new epoch, and
// seqs start again at 1), INCRBYs the seq by the batch's size, XADDs each
// message and SPUBLISHes the whole batch, encoded once, to the channel.
// A batch is therefore contiguous and atomic, and every instance sees the
// same seq, id and time for a message. <prefix>:topics is the set of
// names that GET /v1/topics lists.
//
// Publishes to one topic share scripts (group commit, group.go): up to
// maxInFlight scripts per topic are in flight from an instance, and the
// batches that arrive meanwhile go together in the next one, each still
// contiguous. rueidis auto-pipelines the scripts of all topics on its
// connections. A group's leader is the goroutine of the publish that
// leads it; the others wait on their call's channel.
//
// # Mirrors
//
// An instance mirrors only topics it has local subscribers for: Attach
// (from broker.Subscribe, and egress's from=latest pinning) starts a
// mirror, and the janitor stops one after IdleDelay without local
// subscribers, unsubscribing. A mirror has two goroutines, owned by it
// and waited for by its stop:
//
//   - the receiver holds SSUBSCRIBE (subscribing again after a lost
//     connection); its message handler runs on rueidis's reading
//     goroutine, so it only decodes and queues, never blocks or calls
//     Redis;
//   - the worker catches the local topic up from the history after every
//     subscription confirmation (so nothing published between the
//     subscription and the history read is missed), when a queued batch
//     does not follow the local head (a gap), and when a batch carries a
//     new epoch; then it inserts the queue. Messages Redis no longer
//     holds are skipped (broker.Topic.Skip), which subscribers see as a
//     gap in seq: a real loss.
//
// A publish on this instance also offers its messages to the local
// mirror when they follow its head, so local subscribers need not wait
// for the pub/sub round trip; duplicates are ignored by Topic.Insert.
// Local subscribers then read the ring exactly as with the memory engine.
//
// # Locks
//
// Engine.mu serialises mirror creation and removal (the map itself is a
// sync.Map read without it). mirror.insertMu serialises every Insert,
// Skip and broker.Mirror call on one topic (the broker requires a single
// inserter); it is taken after mirror.mu is released, never with it.
// Lock order: mirror.insertMu, then Broker.mu (broker.Mirror), then the
// locks a Broker.Watch callback takes (a destination subscribing). The
// broker never calls the engine with one of its locks held, and no lock
// is held across a Redis call.
//
// # Failure
//
// A Redis that does not answer within Config.Timeout fails publishes with
// broker.ErrUnavailable (503 unavailable); Up goes false (readyz 503)
// until a health-check PING answers. Existing subscribers keep their
// connections and mirrors, and catch up from the history when the
// subscription is confirmed again. A publish whose answer was lost may
// have been accepted by Redis all the same; it is never accepted in part.
package redisengine
