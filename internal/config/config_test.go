package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadGood(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.good.yaml")
	if len(files) == 0 {
		t.Fatal("no good files")
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	cfg, err := Load("testdata/full.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Detection.Threshold != 0.55 || cfg.Detection.RuleVersion != "r2" || cfg.Limits.MaxTitleBytes != 500 {
		t.Errorf("values not applied: %+v", cfg.Detection)
	}
	if im := cfg.Detection.Image; im.MaxDecodedBytes != 32<<20 || im.MaxDecodingBytes != 96<<20 || im.DecodeConcurrency != 2 || im.DecodeWait != 2*time.Second {
		t.Errorf("decode bounds not applied: %+v", im)
	}
	if lg := cfg.Detection.Logo; lg.Shortlist != 64 || lg.ShortlistTables != 2 || lg.MinDistinct != 2 || lg.ShortlistNearest != 8 || lg.ShortlistMargin != 6 || lg.ShortlistMinVotes != 3.5 ||
		lg.MinPartialCoverage != 0.15 || lg.MinEvenness != 0.7 || lg.MinGuidedEvenness != 0.75 || lg.MinDenseShare != 0.55 || lg.MinDenseEvenness != 0.7 || lg.RivalDenseMargin != 0.25 || lg.RivalMinDense != 0.65 || lg.RivalApartMargin != 0.15 || lg.RivalApartMin != 0.55 || lg.StrongDense != 0.75 || lg.ColourMinDense != 0.85 || lg.MaxImages != 6 || lg.FeatureImages() != 6 {
		t.Errorf("logo settings not applied: %+v", lg)
	}
	if len(cfg.Detection.Price.Rates) != 3 {
		t.Errorf("rates from the file should replace the defaults, got %v", cfg.Detection.Price.Rates)
	}
	if cfg.Limits.MaxDescriptionBytes == 0 || cfg.Detection.Image.MaxBytes == 0 {
		t.Error("unset values should keep their defaults")
	}
}

func TestLoadBad(t *testing.T) {
	cases := map[string]string{
		"unknown_key": "field treshold not found",
		"threshold":   "detection.threshold",
		"rate":        "detection.price.rates.EUR",
		"base":        "base currency EUR",
		"concurrency": "detection.image.concurrency",
		"decoding":    "detection.image.max_decoding_bytes: must be at least max_decoded_bytes",
		"cue":         "detection.cues.extra[0].weight",
		"syntax":      "line",
		"ladder":      "review.ladder[1].strikes",
		"quality":     "review.good_faith_rate",
		"brokers":     "kafka.brokers",
		// notices_*: the seller notices.
		"notices_topic":  "kafka.topics.seller_notices: \"seller-actions\" is also",
		"notices_window": "review.counter_notice_window: must be positive",
		// calibration_*: threshold recommendations.
		"calibration_target":   "review.calibration.target",
		"calibration_window":   "review.calibration.window_days",
		"buyer_reports_group":  "review.buyer_reports.group_id",
		"networks_group":       "review.networks.group_id",
		"buyer_reports_weight": "review.buyer_reports.complaint_weight",
		"networks_common":      "review.networks.common_at",
		"photos_topic":         "kafka.topics.listing_photos: \"complaints\" is also kafka.topics.complaints",
		"photos_group":         "review.networks.photos_group_id: \"markwatch-networks\" must be set and differ",
		"retention_records":    "review.retention.records (720h0m0s): must be at least",
		// sweep_*: the sweeper's section.
		"sweep_settle": "sweep.settle: must exceed kafka.marks_debounce",
		"sweep_topic":  "kafka.topics.sweeps: \"marks\" is another",
		"sweep_group":  "sweep.group_id: \"markwatch-detector\" is also kafka.group_id",
		"membership":   "kafka.membership: want \"static\" or \"kafka-go\" (deprecated), got \"eager\"",
		// logo_*: logo detection.
		"logo_shortlist":           "detection.logo.shortlist: must be -1 (one stage)",
		"logo_shortlist_tables":    "detection.logo.shortlist_tables: must be in [0, 16], got 17",
		"logo_shortlist_margin":    "detection.logo.shortlist_margin: must be -1 (none), 0 (the default, 6) or up to 128 bits, got 129",
		"logo_shortlist_nearest":   "detection.logo.shortlist_nearest: must be -1 (every logo), 0 (the default) or positive, got -2",
		"logo_shortlist_min_votes": "detection.logo.shortlist_min_votes: must be a number",
		"logo_min_distinct":        "detection.logo.min_distinct: must be 0",
		"logo_min_partial":         "detection.logo.min_partial_coverage: must be at most 1 and at most min_coverage, got 0.3",
		"logo_min_evenness":        "detection.logo.min_evenness: must be at most 1 (0: the default, negative: not checked), got 1.5",
		"logo_min_guided":          "detection.logo.min_guided_evenness: must be at most 1 (0: the default, negative: not checked), got 2",
		"logo_min_dense":           "detection.logo.min_dense_share: must be at most 1 (0: the default, negative: not checked), got 2",
		"logo_min_dense_even":      "detection.logo.min_dense_evenness: must be at most 1 (0: the default, negative: not checked), got 1.5",
		"logo_dense_even_off":      "detection.logo.min_dense_evenness: 0.7 needs min_dense_share on (0 or positive), got -1",
		"logo_rival_dense":         "detection.logo.rival_dense_margin: must be at most 1 (0: the default, negative: off), and rival_min_dense in [0, 1] (0: the default), got 1.5 and 0",
		"logo_rival_dense_off":     "detection.logo.rival_dense_margin: 0.3 needs min_dense_share on (0 or positive), got -1",
		"logo_strong_dense":        "detection.logo.strong_dense: must be at most 1 (0: the default, negative: off), got 1.5",
		"logo_strong_dense_off":    "detection.logo.strong_dense: 0.7 needs min_dense_share on (0 or positive), got -1",
		"logo_rival_apart":         "detection.logo.rival_apart_margin: must be at most 1 (0: the default, negative: off), and rival_apart_min in [0, 1] (0: the default), got 0.1 and 1.2",
		"logo_rival_apart_off":     "detection.logo.rival_apart_margin: 0.2 needs min_dense_share on (0 or positive), got -1",
		"logo_colour_min_dense":    "detection.logo.colour_min_dense: must be at most 1 (0: the default, negative: colour planes not used), got 1.5",
		"logo_colour_off":          "detection.logo.colour_min_dense: 0.8 needs min_dense_share on (0 or positive), got -1",
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name+".bad.yaml")
			_, err := Load(path)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q should contain %q and the file name", err, want)
			}
		})
	}
}

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("detection:\n  threshold: 0.5\n"))
	f.Add([]byte("limits: {max_images: 3}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if err == nil {
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Parse accepted an invalid config: %v", err)
			}
		}
	})
}

func TestExampleConfigLoads(t *testing.T) {
	cfg, err := Load("../../configs/markwatch.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Detection.Threshold != Default().Detection.Threshold {
		t.Errorf("the example should show the defaults, threshold %v", cfg.Detection.Threshold)
	}
}

// TestSweepSection: the sweep section's values reach the configuration,
// and the sweeper is off unless asked for.
func TestSweepSection(t *testing.T) {
	if Default().Sweep.Enabled {
		t.Error("sweeps are on by default; they need a compacted sweeps topic created first")
	}
	cfg, err := Load("testdata/sweep.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Sweep
	if !s.Enabled || s.Lookback != 0 || s.Rate != 0 || s.Settle != 2*time.Second || s.CheckpointInterval != time.Second ||
		cfg.Kafka.Topics.Sweeps != "markwatch.sweeps" {
		t.Errorf("sweep section %+v, topic %q", s, cfg.Kafka.Topics.Sweeps)
	}
}

// TestMembership: the detector's group membership is static with
// cooperative rebalancing by default, the instance index automatic; the
// environment selects the deprecated kafka-go path and the instance id,
// and a bad id or membership is named.
func TestMembership(t *testing.T) {
	c := Default()
	if c.Kafka.Membership != MembershipStatic || c.Kafka.GroupInstanceIndex != -1 || c.Kafka.GroupInstanceID != "" {
		t.Errorf("defaults: membership %q, index %d, id %q", c.Kafka.Membership, c.Kafka.GroupInstanceIndex, c.Kafka.GroupInstanceID)
	}
	env := map[string]string{"MARKWATCH_KAFKA_MEMBERSHIP": "kafka-go", "MARKWATCH_KAFKA_GROUP_INSTANCE_ID": "detector-3"}
	if err := c.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.Kafka.Membership != MembershipKafkaGo || c.Kafka.GroupInstanceID != "detector-3" {
		t.Errorf("after the environment: membership %q, id %q", c.Kafka.Membership, c.Kafka.GroupInstanceID)
	}
	for _, tt := range []struct{ id, want string }{
		{"pod name/1", "kafka.group_instance_id"},
		{"..", "kafka.group_instance_id"},
		{strings.Repeat("x", 250), "kafka.group_instance_id"},
	} {
		c := Default()
		c.Kafka.GroupInstanceID = tt.id
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("id %.20q: error %v, want one naming %s", tt.id, err, tt.want)
		}
	}
}
