package broker

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPublishAllocations guards the hot path: publishing allocates nothing
// beyond the message the caller made.
func TestPublishAllocations(t *testing.T) {
	b := newTestBroker(t, Config{RingSize: 1024})
	s, _ := b.Subscribe("t", SubscribeOptions{})
	defer s.Close()
	payload := []byte("0123456789")
	msgs := make([]Message, 2000)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		msgs[i].Data = payload
		if err := b.Publish(context.Background(), "t", &msgs[i]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Fatalf("publish allocates %.1f times", allocs)
	}
	buf := make([]*Message, 64)
	readAllocs := testing.AllocsPerRun(100, func() {
		if _, err := s.Read(buf); err != nil {
			t.Fatal(err)
		}
	})
	if readAllocs != 0 {
		t.Fatalf("read allocates %.1f times", readAllocs)
	}
}

func BenchmarkPublish(b *testing.B) {
	payload := make([]byte, 100)
	for _, producers := range []int{1, 4} {
		b.Run("producers="+strconv.Itoa(producers), func(b *testing.B) {
			br := newTestBroker(b, Config{})
			if _, err := br.Topic("bench"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			var wg sync.WaitGroup
			per := b.N / producers
			b.ResetTimer()
			for p := 0; p < producers; p++ {
				wg.Go(func() {
					ctx := context.Background()
					for i := 0; i < per; i++ {
						if err := br.Publish(ctx, "bench", &Message{Data: payload}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// BenchmarkPublishFloor is BenchmarkPublish's baseline: what every publish
// costs before the broker does anything, allocating the message, reading the
// clock and storing a pointer into a 64K-slot array.
func BenchmarkPublishFloor(b *testing.B) {
	payload := make([]byte, 100)
	slots := make([]atomic.Pointer[Message], DefaultRingSize)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for i := 0; i < b.N; i++ {
		m := &Message{Data: payload}
		m.Time = time.Now()
		slots[i&(DefaultRingSize-1)].Store(m)
	}
}

// BenchmarkFanout compares the ring with the obvious design, a buffered
// channel per subscriber, for one publisher and N subscriber goroutines
// that each read every message. Both are lossless: ring subscribers use the
// block policy, channel sends block when a subscriber's buffer is full.
func BenchmarkFanout(b *testing.B) {
	for _, impl := range []string{"ring", "chan"} {
		for _, subs := range []int{1, 64, 1024} {
			b.Run("impl="+impl+"/subs="+strconv.Itoa(subs), func(b *testing.B) {
				b.ReportAllocs()
				var run func(b *testing.B, subs int)
				if impl == "ring" {
					run = fanoutRing
				} else {
					run = fanoutChan
				}
				start := time.Now()
				run(b, subs)
				b.ReportMetric(float64(b.N)*float64(subs)/time.Since(start).Seconds(), "deliveries/s")
			})
		}
	}
}

func fanoutRing(b *testing.B, subs int) {
	br := newTestBroker(b, Config{Rules: []TopicRule{{Match: "fan", AllowBlock: true}}, PublishTimeout: time.Hour})
	msgs := make([]Message, b.N)
	payload := make([]byte, 100)
	var wg sync.WaitGroup
	for i := 0; i < subs; i++ {
		s, err := br.Subscribe("fan", SubscribeOptions{Policy: Block})
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			defer s.Close()
			buf := make([]*Message, 256)
			for got := 0; got < b.N; {
				n, err := s.Next(context.Background(), buf)
				if err != nil {
					b.Error(err)
					return
				}
				got += n
			}
		})
	}
	b.ResetTimer()
	ctx := context.Background()
	for i := range msgs {
		msgs[i].Data = payload
		if err := br.Publish(ctx, "fan", &msgs[i]); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
}

func fanoutChan(b *testing.B, subs int) {
	msgs := make([]Message, b.N)
	payload := make([]byte, 100)
	chans := make([]chan *Message, subs)
	var wg sync.WaitGroup
	for i := range chans {
		ch := make(chan *Message, 1024)
		chans[i] = ch
		wg.Go(func() {
			for got := 0; got < b.N; got++ {
				<-ch
			}
		})
	}
	b.ResetTimer()
	for i := range msgs {
		msgs[i].Data = payload
		for _, ch := range chans {
			ch <- &msgs[i]
		}
	}
	wg.Wait()
}
