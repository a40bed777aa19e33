package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/pipeline"
)

// Sizes of what tail prints of untrusted text.
const (
	tailMaxText  = 200 // a title, an explanation, a reason
	tailMaxValue = 300 // the raw value of a dead letter
	tailMaxJSON  = 64 << 10
)

func runTail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("markwatch tail", flag.ContinueOnError)
	brokers := fs.String("brokers", defaultBrokers(), "comma-separated Kafka brokers (default from MARKWATCH_KAFKA_BROKERS)")
	fromBeginning := fs.Bool("from-beginning", false, "start at the oldest message instead of the newest")
	n := fs.Int("n", 0, "stop after N messages (0: follow until Ctrl-C)")
	key := fs.String("key", "", "only messages with this key (a listing id on listings, complaints and takedowns)")
	format := fs.String("format", "auto", "auto (by topic name), complaint, listing, dlq or json")
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: markwatch tail [-brokers B] [-from-beginning] [-n N] [-key K] [-format F] TOPIC\n\n"+
			"Pretty-prints a topic, all partitions, without a consumer group: complaints as one line each,\n"+
			"listings as title and price, listings.dlq with its dlq.* headers, anything else as JSON.\n"+
			"It starts at the end of the topic, so only new messages show: -from-beginning shows what\n"+
			"is already there (a takedown published a moment ago, say).\n\nflags:")
		fs.PrintDefaults()
	}
	// Flags may come before or after TOPIC: the flag package stops at the
	// first argument, so the rest is parsed again.
	if err := fs.Parse(args); err != nil {
		return flagErr(err)
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "missing TOPIC")
		fs.Usage()
		return errUsage
	}
	topic := fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return flagErr(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %v\n", fs.Args())
		fs.Usage()
		return errUsage
	}
	if *n < 0 {
		fmt.Fprintf(stderr, "-n %d: must not be negative\n", *n)
		return errUsage
	}
	fmtFn, err := tailFormatter(*format, topic)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	start := kafka.LastOffset
	if *fromBeginning {
		start = kafka.FirstOffset
	} else {
		// An empty screen after a decision is the common surprise: say
		// where tail starts, on stderr so that stdout stays the records.
		fmt.Fprintf(stderr, "following %s from its end: only new messages show (-from-beginning for those already there)\n", topic)
	}
	seen := 0
	err = consumeTopic(ctx, splitBrokers(*brokers), topic, start, func(m kafka.Message) bool {
		if *key != "" && string(m.Key) != *key {
			return true
		}
		fmt.Fprintln(stdout, fmtFn(m))
		seen++
		return *n == 0 || seen < *n
	})
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil // Ctrl-C is how a follow ends
	}
	return err
}

// defaultBrokers is the -brokers default of the hand tools (tail,
// produce): MARKWATCH_KAFKA_BROKERS, else markwatch dev's broker.
func defaultBrokers() string {
	if v := os.Getenv("MARKWATCH_KAFKA_BROKERS"); v != "" {
		return v
	}
	return "127.0.0.1:9092"
}

func flagErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return errUsage
}

func splitBrokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// tailFormatter picks the line format: by name, or for "auto" by the topic
// name against the default topic names.
func tailFormatter(name, topic string) (func(kafka.Message) string, error) {
	if name == "auto" {
		t := config.Default().Kafka.Topics
		switch topic {
		case t.Complaints:
			name = "complaint"
		case t.Listings:
			name = "listing"
		case t.DLQ:
			name = "dlq"
		default:
			name = "json"
		}
	}
	switch name {
	case "complaint":
		return formatComplaint, nil
	case "listing":
		return formatListing, nil
	case "dlq":
		return formatDeadLetter, nil
	case "json":
		return formatJSON, nil
	}
	return nil, fmt.Errorf("-format %q: want auto, complaint, listing, dlq or json", name)
}

// topicPartitions returns the partition ids of topic.
func topicPartitions(ctx context.Context, brokers []string, topic string) ([]int, error) {
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second, Transport: transport}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("topic %s: %w", topic, t.Error)
		}
		ids := make([]int, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			ids = append(ids, p.ID)
		}
		slices.Sort(ids)
		if len(ids) == 0 {
			return nil, fmt.Errorf("topic %s has no partitions", topic)
		}
		return ids, nil
	}
	return nil, fmt.Errorf("topic %s: not found", topic)
}

// consumeTopic reads every partition of topic from start (kafka.FirstOffset
// or kafka.LastOffset) without a consumer group and hands the messages to
// fn one at a time, in arrival order (per-partition order is kept), until
// fn returns false (nil), ctx ends (ctx's error) or a read fails.
func consumeTopic(ctx context.Context, brokers []string, topic string, start int64, fn func(kafka.Message) bool) error {
	parts, err := topicPartitions(ctx, brokers, topic)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := make(chan kafka.Message)
	errs := make(chan error, len(parts))
	var wg sync.WaitGroup
	for _, p := range parts {
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: brokers, Topic: topic, Partition: p,
			MaxWait: 250 * time.Millisecond, MaxBytes: 10 << 20,
		})
		if err := r.SetOffset(start); err != nil {
			_ = r.Close()
			cancel()
			wg.Wait()
			return fmt.Errorf("%s/%d: set offset: %w", topic, p, err)
		}
		wg.Go(func() {
			defer r.Close()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					if ctx.Err() == nil {
						errs <- fmt.Errorf("read %s/%d: %w", topic, p, err)
					}
					return
				}
				select {
				case msgs <- m:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	defer func() {
		cancel() // before Wait: the readers stop on it
		wg.Wait()
	}()
	for {
		select {
		case m := <-msgs:
			if !fn(m) {
				return nil
			}
		case err := <-errs:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// formatComplaint is one line: time, listing and version, mark, score,
// explanation.
func formatComplaint(m kafka.Message) string {
	c, err := domain.DecodeComplaint(m.Value, domain.DefaultLimits)
	if err != nil {
		return fmt.Sprintf("%s not a complaint (%s): %s", stamp(m.Time), printable(err.Error(), tailMaxText), rawValue(m.Value))
	}
	t := c.CreatedAt
	if t.IsZero() {
		t = m.Time
	}
	title := ""
	if c.Listing != nil {
		title = " " + strconv.Quote(printable(c.Listing.Title, 60))
	}
	return fmt.Sprintf("%s complaint %s v%d%s → %s score %.2f: %s",
		stamp(t), printable(c.ListingID, 80), c.ListingVersion, title, printable(c.MarkID, 80), c.Score,
		printable(c.Explanation, tailMaxText))
}

// formatListing is one line: time, listing and version, title, price,
// seller.
func formatListing(m kafka.Message) string {
	l, err := domain.DecodeListing(m.Value, domain.DefaultLimits)
	if err != nil {
		return fmt.Sprintf("%s not a listing (%s): %s", stamp(m.Time), printable(err.Error(), tailMaxText), rawValue(m.Value))
	}
	price := "no price"
	if l.Price != nil {
		price = printable(l.Price.Amount+" "+l.Price.Currency, 40)
	}
	imgs := ""
	if len(l.Images) > 0 {
		imgs = fmt.Sprintf(" (%d images)", len(l.Images))
	}
	return fmt.Sprintf("%s listing %s v%d %s %s seller %s%s",
		stamp(m.Time), printable(l.ListingID, 80), l.Version, strconv.Quote(printable(l.Title, tailMaxText)),
		price, printable(l.SellerID, 80), imgs)
}

// formatDeadLetter shows where a dead letter came from and why, and the
// start of the value as it was.
func formatDeadLetter(m kafka.Message) string {
	h := map[string]string{}
	for _, x := range m.Headers {
		h[x.Key] = string(x.Value) // the last of a name wins, as the writer intends
	}
	get := func(k string) string {
		if v, ok := h[k]; ok {
			return printable(v, tailMaxText)
		}
		return "?"
	}
	value := rawValue(m.Value)
	if n, ok := h[pipeline.HeaderValueOmitted]; ok {
		value = "(omitted, " + printable(n, 20) + " bytes)"
	}
	return fmt.Sprintf("%s dead letter from %s/%s@%s [%s] key %s: %s\n    value: %s",
		stamp(m.Time), get(pipeline.HeaderTopic), get(pipeline.HeaderPartition), get(pipeline.HeaderOffset),
		get(pipeline.HeaderErrorClass), strconv.Quote(printable(string(m.Key), 80)), get(pipeline.HeaderReason), value)
}

// formatJSON prints a header line and the value indented if it is JSON.
func formatJSON(m kafka.Message) string {
	head := fmt.Sprintf("%s %s/%d@%d key %s", stamp(m.Time), printable(m.Topic, 80), m.Partition, m.Offset,
		strconv.Quote(printable(string(m.Key), 80)))
	if m.Value == nil {
		return head + " tombstone"
	}
	var buf bytes.Buffer
	if len(m.Value) > tailMaxJSON || json.Indent(&buf, m.Value, "  ", "  ") != nil {
		return head + "\n  " + rawValue(m.Value)
	}
	lines := strings.Split(buf.String(), "\n")
	for i, l := range lines {
		lines[i] = printable(l, 4*tailMaxText)
	}
	return head + "\n  " + strings.Join(lines, "\n")
}

// stamp formats a time for a line; UTC so that lines compare across hosts.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "--:--:--"
	}
	return t.UTC().Format("15:04:05")
}

// rawValue is the start of a value, quoted so that any byte shows.
func rawValue(v []byte) string {
	if v == nil {
		return "(null)"
	}
	s := string(v)
	cut := ""
	if len(s) > tailMaxValue {
		s = s[:tailMaxValue]
		cut = fmt.Sprintf("… (%d bytes)", len(v))
	}
	return strconv.Quote(s) + cut
}

// printable makes untrusted text safe for a terminal and one line: control
// characters (a listing title may carry terminal escapes), bidirectional
// overrides and invalid UTF-8 are escaped, and it is cut to max runes.
func printable(s string, max int) string {
	var b strings.Builder
	n := 0
	for i, r := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		n++
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
