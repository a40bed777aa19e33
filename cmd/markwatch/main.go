// Command markwatch is the one binary of markwatch: it scores listings
// against registered marks, evaluates the detection core on labeled data,
// runs the streaming detector and the review service, creates API users,
// runs everything in one process for a first look (dev), and reads and
// writes topics by hand (tail, produce).
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

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"score", "score listings against marks and print one verdict per listing", runScore},
		{"eval", "measure precision and recall on labeled listings, plot the PR curve", runEval},
		{"detect", "run the streaming detector: listings in, complaints out", runDetect},
		{"serve", "run the review service: API, complaints stored once, decisions relayed, reinstatements", runServe},
		{"users", "create API users (users create -role R [-holder H] -name N)", runUsers},
		{"dev", "run broker, detector and a fixture listing producer in one process", runDev},
		{"tail", "pretty-print a Kafka topic (complaints, listings, listings.dlq, ...)", runTail},
		{"produce", "write stdin to a Kafka topic, one message per line (keyed by listing_id)", runProduce},
		{"version", "print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
			_, err := fmt.Fprintln(stdout, "markwatch", version)
			return err
		}},
	}
}

// exitError carries a process exit status without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		var ee exitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.code
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(stderr, "markwatch %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "markwatch: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// errUsage is returned after a flag error has been printed.
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: markwatch <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'markwatch <command> -h' for the flags of a command.")
}

// parseFlags parses args into fs, printing errors and usage to stderr.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %v\n", fs.Args())
		fs.Usage()
		return errUsage
	}
	return nil
}
