package ingress

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ringcast/ringcast/broker"
)

func TestRefuse(t *testing.T) {
	for _, tc := range []struct {
		err       error
		status    int
		code      string
		closeCode int
	}{
		{broker.ErrBackpressure, 503, "backpressure", 1013},
		{broker.ErrClosed, 503, "draining", 1001},
		{ErrDraining, 503, "draining", 1001},
		{fmt.Errorf("%w: the limit is 1", broker.ErrTooManyTopics), 403, "forbidden", 1008},
		{fmt.Errorf("%w: empty", broker.ErrBadTopic), 400, "bad_topic", 1008},
		{broker.ErrBatchTooLarge, 413, "too_large", 1009},
		{ErrTooLarge, 413, "too_large", 1009},
		{errors.New("something new"), 500, "internal", 1011},
	} {
		r := refuse(tc.err)
		if r.status != tc.status || r.code != tc.code || r.closeCode != tc.closeCode {
			t.Errorf("refuse(%v) = %d %s %d, want %d %s %d", tc.err, r.status, r.code, r.closeCode, tc.status, tc.code, tc.closeCode)
		}
		if r.sentence == "" || r.reason == "" || len(r.reason) > 123 {
			t.Errorf("refuse(%v): sentence %q, close reason %q (at most 123 bytes)", tc.err, r.sentence, r.reason)
		}
	}
}
