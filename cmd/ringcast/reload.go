package main

import (
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/ringcast/ringcast/internal/config"
	"github.com/ringcast/ringcast/internal/server"
)

// reloadOnHUP reloads the server's TLS certificate on every SIGHUP (the
// server logs whether it worked) until the returned stop is called. Open
// connections are not touched. Without TLS a SIGHUP is logged and
// otherwise ignored.
func reloadOnHUP(s *server.Server, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-hup:
				if !s.HasTLS() {
					log.Info("SIGHUP: no tls section, nothing to reload")
					continue
				}
				_ = s.ReloadTLS()
			case <-done:
				return
			}
		}
	})
	return func() {
		signal.Stop(hup)
		close(done)
		wg.Wait()
	}
}

// serverLimits converts the file's limits section (defaults filled) to the
// server's; max_topics goes to Config.MaxTopics.
func serverLimits(l config.Limits) server.Limits {
	return server.Limits{
		MaxConnections:      l.MaxConnections,
		MaxConnectionsPerIP: l.MaxConnectionsPerIP,
		PublishRatePerIP:    l.PublishRatePerIP,
		ReadTimeout:         time.Duration(l.ReadTimeout),
		WriteTimeout:        time.Duration(l.WriteTimeout),
		IdleTimeout:         time.Duration(l.IdleTimeout),
		MaxHeaderBytes:      int(l.MaxHeaderBytes),
		ReadyMaxConnections: l.ReadyMaxConnections,
		ReadyMaxHeapBytes:   int64(l.ReadyMaxHeapBytes),
	}
}
