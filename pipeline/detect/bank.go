package detect

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/telemetry"
	"github.com/markwatch/markwatch/matchers/suppress"
	"github.com/markwatch/markwatch/pipeline/marks"
)

// BankFollower follows the compacted negative-banks topic (key = entry_id,
// value = domain.BankEntry JSON, tombstone = the entry undone) and keeps a
// suppress.Bank built from every entry, the way the marks follower keeps
// the engine.
type BankFollower = marks.Table[*domain.BankEntry, *suppress.Bank]

// BankOptions configure NewBankFollower.
type BankOptions struct {
	Brokers []string
	// Topic is the compacted negative-banks topic.
	Topic string
	// Bank configures the bank each build makes.
	Bank suppress.Options
	// Debounce gathers entries before a rebuild (default as the marks').
	Debounce time.Duration
	// Limits are the caps the entry decoder enforces.
	Limits domain.Limits
	// Logger and Registerer: nil means none. The follower's own record
	// counters are the marks topic's names, so they are not registered
	// for this topic; markwatch_negative_bank_entries and _ready are.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// NewBankFollower returns a follower of the negative-banks topic.
func NewBankFollower(o BankOptions) (*BankFollower, error) {
	type bankMetrics struct{ entries, ready prometheus.Gauge }
	m, err := telemetry.Build(o.Registerer, func(f promauto.Factory) *bankMetrics {
		const ns, sub = telemetry.Namespace, "negative_bank"
		return &bankMetrics{
			entries: f.NewGauge(prometheus.GaugeOpts{
				Namespace: ns, Subsystem: sub, Name: "entries",
				Help: "Entries of the negative bank (global and per mark) in the detector's current bank.",
			}),
			ready: f.NewGauge(prometheus.GaugeOpts{
				Namespace: ns, Subsystem: sub, Name: "ready",
				Help: "1 once the negative-banks topic has been read to its end offsets at start and a bank built.",
			}),
		}
	})
	if err != nil {
		return nil, fmt.Errorf("detect: negative bank: %w", err)
	}
	if _, err := suppress.New(nil, o.Bank); err != nil {
		return nil, fmt.Errorf("detect: negative bank: %w", err)
	}
	return marks.NewTable(marks.TableOptions[*domain.BankEntry, *suppress.Bank]{
		Brokers: o.Brokers,
		Topic:   o.Topic,
		Decode: func(value []byte, lim domain.Limits) (*domain.BankEntry, string, bool, error) {
			e, err := domain.DecodeBankEntry(value, lim)
			if err != nil {
				return nil, "", false, fmt.Errorf("decode negative-bank entry: %w", err)
			}
			return e, e.EntryID, true, nil
		},
		Build: func(_ context.Context, es []*domain.BankEntry) (*suppress.Bank, error) {
			b, err := suppress.New(es, o.Bank)
			if err == nil {
				m.entries.Set(float64(b.Len()))
				m.ready.Set(1)
			}
			return b, err
		},
		Debounce: o.Debounce,
		// The topic is optional: until the registry creates it (with the
		// first entry) the bank is empty, and a detector need not wait.
		AbsentIsEmpty:          true,
		PartitionCheckInterval: 5 * time.Second,
		Limits:                 o.Limits,
		Component:              "negative_bank",
		Logger:                 o.Logger,
	})
}
