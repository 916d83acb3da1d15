package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/ringcast/ringcast/client"
	"github.com/ringcast/ringcast/internal/server"
)

// exampleServer runs a Ringcast server on a loopback port for an example
// and returns its base URL and how to stop it.
func exampleServer(cfg server.Config) (string, func()) {
	s, err := runServer(cfg)
	if err != nil {
		log.Fatal(err)
	}
	return "http://" + s.Addr().String(), func() { _ = stop(s) }
}

func Example() {
	base, stop := exampleServer(server.Config{})
	defer stop()
	ctx := context.Background()

	c, err := client.New(base)
	if err != nil {
		log.Fatal(err)
	}
	// Subscribe returns once subscribed: nothing published after it is
	// missed.
	sub, err := c.Subscribe(ctx, "orders.eu", client.SubscribeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()

	res, err := c.Publish(ctx, "orders.eu", []byte(`{"order":42}`), map[string]string{"region": "eu"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("published seq", res.Seq)

	ev, err := sub.Next(ctx)
	if err != nil {
		log.Fatal(err)
	}
	m := ev.(client.Message)
	fmt.Println("received seq", m.Seq, string(m.Data), "from", m.Attrs["region"])
	// Output:
	// published seq 1
	// received seq 1 {"order":42} from eu
}

func ExampleClient_Subscribe() {
	base, stop := exampleServer(server.Config{})
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // ends the subscription too

	c, err := client.New(base)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.PublishBatch(ctx, "chat", [][]byte{[]byte("hi"), []byte("hello"), []byte("bye")}); err != nil {
		log.Fatal(err)
	}
	sub, err := c.Subscribe(ctx, "chat", client.SubscribeOptions{From: client.Oldest})
	if err != nil {
		log.Fatal(err)
	}
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			log.Fatal(err)
		}
		switch e := ev.(type) {
		case client.Message:
			fmt.Printf("%d: %s\n", e.Seq, e.Data)
			if string(e.Data) == "bye" {
				return
			}
		case client.Gap:
			fmt.Println("lost:", e)
		case client.Reset:
			fmt.Println("start over:", e)
		}
	}
	// Output:
	// 1: hi
	// 2: hello
	// 3: bye
}

// A subscriber that resumes at a seq the server no longer retains learns
// exactly which seqs it missed.
func ExampleGap() {
	base, stop := exampleServer(server.Config{RingSize: 8}) // retains the last 8 messages
	defer stop()
	ctx := context.Background()

	c, err := client.New(base)
	if err != nil {
		log.Fatal(err)
	}
	for i := 1; i <= 20; i++ {
		if _, err := c.Publish(ctx, "metrics", fmt.Appendf(nil, "m%d", i), nil); err != nil {
			log.Fatal(err)
		}
	}
	sub, err := c.Subscribe(ctx, "metrics", client.SubscribeOptions{From: client.Seq(3)})
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	for seq := uint64(0); seq < 20; {
		ev, err := sub.Next(ctx)
		if err != nil {
			log.Fatal(err)
		}
		switch e := ev.(type) {
		case client.Gap:
			fmt.Println("gap:", e)
		case client.Message:
			seq = e.Seq
			fmt.Print(string(e.Data), " ")
		}
	}
	fmt.Println()
	// Output:
	// gap: missed seq 3 to 12 (10 messages)
	// m13 m14 m15 m16 m17 m18 m19 m20
}

func ExampleClient_OpenPublisher() {
	base, stop := exampleServer(server.Config{})
	defer stop()
	ctx := context.Background()

	c, err := client.New(base)
	if err != nil {
		log.Fatal(err)
	}
	pub, err := c.OpenPublisher(ctx, "ticks")
	if err != nil {
		log.Fatal(err)
	}
	for i := range 1000 {
		if err := pub.Send(ctx, fmt.Appendf(nil, "tick %d", i)); err != nil {
			log.Fatal(err)
		}
	}
	// Close returns nil once the server has read, and so accepted, every
	// message sent.
	if err := pub.Close(); err != nil {
		log.Fatal(err)
	}

	sub, err := c.Subscribe(ctx, "ticks", client.SubscribeOptions{From: client.Seq(1000)})
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	ev, err := sub.Next(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(ev.(client.Message).Data))
	// Output: tick 999
}

func ExampleClient_PublishBatch() {
	base, stop := exampleServer(server.Config{})
	defer stop()
	ctx := context.Background()

	c, err := client.New(base)
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.PublishBatch(ctx, "logs", [][]byte{[]byte(`{"level":"info"}`), []byte(`{"level":"warn"}`)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("seqs %d to %d, %d messages\n", res.FirstSeq, res.LastSeq, res.Count)

	// A batch is one payload per line, so a payload cannot hold a newline.
	_, err = c.PublishBatch(ctx, "logs", [][]byte{[]byte("two\nlines")})
	fmt.Println(err)
	// Output:
	// seqs 1 to 2, 2 messages
	// client: batch to "logs": payload 0 holds a newline, which would split it in two; publish it with Publish
}

func ExampleAPIError() {
	base, stop := exampleServer(server.Config{})
	defer stop()
	ctx := context.Background()

	c, err := client.New(base)
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Publish(ctx, "no spaces allowed", []byte("x"), nil)
	var ae *client.APIError
	if errors.As(err, &ae) {
		switch ae.Code {
		case client.CodeBadTopic:
			fmt.Println("fix the topic name:", ae.Status, ae.Code)
		case client.CodeBackpressure, client.CodeDraining:
			fmt.Println("retry in", ae.RetryAfter)
		default:
			fmt.Println(ae)
		}
	}
	// Output: fix the topic name: 400 bad_topic
}
