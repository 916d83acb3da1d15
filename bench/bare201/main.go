// Command bare201 is the baseline of the HTTP publish target (issue 5): a
// fasthttp server whose only handler answers every request 201 with no
// body, with fasthttp's defaults. bench/wrk.sh measures it and ringcast's
// POST /v1/topics/{topic} with the same wrk load, one after the other.
//
//	bare201 -listen 127.0.0.1:18201
//
// It prints "bare201 listening on ADDR" once it accepts connections (with
// -listen 127.0.0.1:0, ADDR is the port the kernel chose) and stops on
// SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/valyala/fasthttp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bare201:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts the server down.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bare201", flag.ContinueOnError)
	fs.SetOutput(out)
	listen := fs.String("listen", "127.0.0.1:18201", "the address to listen on (host:port; port 0 picks a free one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; the only flag is -listen", fs.Arg(0))
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (-listen): %w", *listen, err)
	}
	srv := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(fasthttp.StatusCreated) },
		Name:    "bare201",
	}
	fmt.Fprintln(out, "bare201 listening on", ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	if err := srv.Shutdown(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return <-served
}
