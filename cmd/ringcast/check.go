package main

import (
	"errors"
	"fmt"
	"io"
)

const checkUsage = `usage: ringcast check --config FILE

Validates a configuration file without starting anything: every error names
the file, the line, the key path and why.`

// check validates a configuration file.
func check(args []string, stdout, stderr io.Writer) error {
	fs, f := newServeFlags(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, checkUsage) }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.configFile == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("check needs --config FILE and nothing else")
	}
	if _, err := serverConfig(fs, f); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok\n", f.configFile)
	return nil
}
