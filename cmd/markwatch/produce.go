package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/pipeline"
)

// produceMaxLine caps one input line: a listing is far smaller.
const produceMaxLine = 4 << 20

// runProduce writes stdin to a topic, one message per line: what kcat -P
// does, for a newcomer who has no kcat. The key is -key, or else the line's
// listing_id (the key the listings topic wants), or none.
func runProduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return produce(ctx, args, os.Stdin, stdout, stderr)
}

func produce(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("markwatch produce", flag.ContinueOnError)
	brokers := fs.String("brokers", defaultBrokers(), "comma-separated Kafka brokers (default from MARKWATCH_KAFKA_BROKERS)")
	key := fs.String("key", "", "key of every message (default: each line's listing_id, if it has one)")
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: markwatch produce [-brokers B] [-key K] TOPIC < messages\n\n"+
			"Writes one message per line of stdin to TOPIC and returns once the broker has them all\n"+
			"(acknowledged by every in-sync replica). Blank lines are skipped.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagErr(err)
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "want exactly one TOPIC")
		fs.Usage()
		return errUsage
	}
	topic := fs.Arg(0)
	var msgs []kafka.Message
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), produceMaxLine)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		m := kafka.Message{Topic: topic, Value: bytes.Clone(line)}
		if *key != "" {
			m.Key = []byte(*key)
		} else {
			var l struct {
				ListingID string `json:"listing_id"`
			}
			if json.Unmarshal(line, &l) == nil && l.ListingID != "" {
				m.Key = []byte(l.ListingID)
			}
		}
		msgs = append(msgs, m)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	if len(msgs) == 0 {
		fmt.Fprintln(stderr, "nothing to produce: stdin had no lines")
		return errUsage
	}
	w := pipeline.NewWriter(splitBrokers(*brokers), pipeline.WriterOptions{})
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := w.WriteMessages(wctx, msgs...)
	if cerr := pipeline.CloseWriter(w); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write to %s: %w", topic, err)
	}
	fmt.Fprintf(stdout, "produced %d message(s) to %s\n", len(msgs), topic)
	return nil
}
