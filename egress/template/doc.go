// Package template renders messages through syslog-ng style templates, the
// "template" of a destination in the configuration file.
//
// A template is text with variables: $NAME or ${NAME}, and $$ for a literal
// $. A bare $NAME ends at the first byte that is not a letter, digit or _,
// so "$MSG$TOPIC" and "${MSG}_x" work as expected. The variables are
//
//	$MSG          the payload
//	$TOPIC        the message's topic
//	$SEQ          the message's seq
//	$ID           the message's id (a UUID)
//	$ISODATE      the ingest time, RFC 3339 in UTC with milliseconds: 2026-11-21T17:27:33.123Z
//	$UNIXTIME     the ingest time in seconds since 1970 with milliseconds: 1795282053.123
//	$HOST         the publisher's address, the attribute remote_addr
//	${attr.NAME}  the attribute NAME (braces required)
//
// A variable whose value is absent renders as nothing. The empty template
// stands for the payload, like "$MSG".
//
// # Concurrency contract
//
// A Template is immutable once compiled: any number of goroutines may call
// Append on it at once. Append allocates nothing beyond growing dst.
package template
