// Package broker holds Ringcast's topics: one lock-free multicast ring per
// topic, subscriber cursors, the slow-subscriber policies and replay. It knows
// nothing of HTTP or WebSocket; ingress publishes into it and egress reads
// from it.
//
// # Concurrency contract
//
// Publishing takes no mutex. A publisher claims its seqs with a CAS on the
// topic's head (Topic.claim is the only place a seq is assigned), then
// stores each message pointer into its slot. A slot is "ready for seq N"
// when it holds a message whose Seq is N; a larger Seq means the reader was
// lapped. Messages are immutable once published, so a reader that loaded a
// pointer may use it for as long as it likes.
//
// Each Subscription belongs to one reader goroutine: Read, Next and Wait
// must not be called concurrently on one Subscription. Close may be called
// from any goroutine.
//
// A parked reader waits on the topic's reader notifier; a publisher wakes
// readers only when one is parked, and one wake-up lets a reader drain every
// ready slot. Block subscribers gate publishers: a publisher may not claim a
// seq that would overwrite a slot a block subscriber has not read, and waits
// on the topic's publisher notifier until one reads or the publish times out.
//
// A ManualCommit subscription (SubscribeOptions) keeps two positions: the
// next seq Read takes, owned by the reader like any cursor, and the
// committed cursor, an atomic that Commit moves forward from any goroutine.
// Publishers, Lag and the Block gate see only the committed cursor, so a
// Block destination holds every message it read but has not delivered in
// the ring, not only in its own memory.
//
// With an Engine (Config.Engine, engine.go) the engine assigns seqs
// instead of claim, and feeds local topics, its mirrors, with
// Topic.Insert and Topic.Skip: one inserting goroutine per topic at a
// time, nothing else publishing to it. Readers see inserted messages
// exactly as published ones. Broker.Mirror replaces a topic whose epoch
// changed: the old one is retired (marked removed, then closed), so its
// subscriptions end with ErrClosed and new ones go to its successor. A
// subscription that starts before the mirror's ring first reads the
// engine's history handed to it at Subscribe (Subscription.pre), owned by
// its reader like the cursor.
//
// Broker.Watch calls its callback under Broker.mu, with each matching
// topic that exists and with each new one before the topic is stored in the
// broker's map: no publisher or subscriber can reach a new topic before
// the callback returns, so a subscription made in it sees seq 1.
//
// # Lock order
//
// Broker.mu, then Topic.mu. Neither is taken on the publish or read path:
// Broker.mu guards topic creation, removal and the Watch callbacks, Topic.mu
// guards subscriber registration. A Watch callback runs under Broker.mu: the
// locks it takes (Topic.mu through Topic.Subscribe, a destination's own)
// come after Broker.mu, and whoever holds them must never wait for
// Broker.mu (create a topic, Watch, stop a watch).
package broker
