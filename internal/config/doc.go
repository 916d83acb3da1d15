// Package config loads Ringcast's YAML configuration file (CONFIG.md)
// strictly: an unknown key, a value of the wrong type, a bad value or an
// unknown template variable is an *Error naming the file, the line, the key
// path (destinations[1].retry.max_backoff) and why.
//
// Parse decodes the file into a Config by walking the YAML node tree
// alongside the struct, so that every error knows its key path; anchors,
// aliases and merge keys (<<) work as YAML defines them. It then fills the
// defaults written on each field (Config.setDefaults, the one place they
// are filled) and validates the result. Files the configuration names
// (certificates, keys, secrets) are read relative to the working directory
// to check them; the Config keeps their names, not their contents.
//
// Flags and RINGCAST_* environment variables override the top-level
// scalars; that happens in cmd/ringcast, which parses flags.
package config
