package server

import (
	"fmt"
	"runtime/metrics"
)

// heapMetric is the runtime metric ready_max_heap_bytes compares: the
// bytes of live and not yet swept heap objects.
const heapMetric = "/memory/classes/heap/objects:bytes"

// overload says why the server is over a /readyz threshold
// (limits.ready_max_connections, limits.ready_max_heap_bytes), or "".
func (s *Server) overload() string {
	l := s.cfg.Limits
	if l.ReadyMaxConnections > 0 && s.edgeLn != nil {
		if n := s.edgeLn.Open(); n > l.ReadyMaxConnections {
			return fmt.Sprintf("overloaded: %d connections, over limits.ready_max_connections (%d)", n, l.ReadyMaxConnections)
		}
	}
	if l.ReadyMaxHeapBytes > 0 {
		sample := []metrics.Sample{{Name: heapMetric}}
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			if n := sample[0].Value.Uint64(); n > uint64(l.ReadyMaxHeapBytes) {
				return fmt.Sprintf("overloaded: the heap holds %d bytes, over limits.ready_max_heap_bytes (%d)", n, l.ReadyMaxHeapBytes)
			}
		}
	}
	return ""
}
