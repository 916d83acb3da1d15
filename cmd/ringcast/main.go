// Command ringcast is the Ringcast broker and its command-line tools.
//
//	ringcast [serve] [flags]          run the broker (the default)
//	ringcast pub TOPIC [MESSAGE]      publish MESSAGE, or each stdin line
//	ringcast sub TOPIC [flags]        print messages as they arrive
//	ringcast bench SCENARIO [flags]   load-test a running broker
//	ringcast check --config FILE      validate a configuration file
//	ringcast --version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ringcast:", err)
		}
		os.Exit(2)
	}
}

// run dispatches to a subcommand; serve is the default.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stdout, stderr)
	case "pub":
		return pub(ctx, args, stdin, stdout, stderr)
	case "sub":
		return sub(ctx, args, stdout, stderr)
	case "bench":
		return bench(ctx, args, stdout, stderr)
	case "check":
		return check(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "ringcast", version)
		return nil
	}
	return fmt.Errorf("unknown command %q; want serve, pub, sub, bench, check or version (ringcast -h)", cmd)
}
