// Package config loads markwatch's one YAML configuration file: defaults
// first, then a strict decode (unknown keys are errors), then Validate,
// which names the bad field. Errors carry the file name. Components never
// read this package: cmd/markwatch maps its sections onto their options.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/markwatch/markwatch/internal/domain"
)

// Config is the whole configuration file.
type Config struct {
	Detection Detection     `yaml:"detection"`
	Limits    domain.Limits `yaml:"limits"`
	Kafka     Kafka         `yaml:"kafka"`
	HTTP      HTTP          `yaml:"http"`
	Log       Log           `yaml:"log"`
	Store     Store         `yaml:"store"`
	Review    Review        `yaml:"review"`
	Sweep     Sweep         `yaml:"sweep"`
}

// Sweep configures retroactive sweeps: when a mark becomes active or its
// variants, logos, official images or threshold change, the listings of
// the look-back are scored again against that mark alone (pipeline/sweep).
type Sweep struct {
	// Enabled runs a sweeper in `markwatch detect`. The sweepers of all
	// detectors that enable it elect one, through the consumer group
	// GroupID, to do the sweeps; the others take over when it stops.
	Enabled bool `yaml:"enabled"`
	// GroupID is the sweepers' consumer group (on the sweeps topic).
	GroupID string `yaml:"group_id"`
	// Lookback is how far back the listings topic is read; 0 reads all it
	// retains.
	Lookback time.Duration `yaml:"lookback"`
	// Rate caps the listings a sweep decodes and scores per second; 0 is
	// no cap.
	Rate float64 `yaml:"rate"`
	// Settle is how long after the last mark change a sweep starts: it
	// gathers marks changed together into one pass and must exceed the
	// time detectors take to watch a mark (kafka.marks_debounce plus a
	// build).
	Settle time.Duration `yaml:"settle"`
	// CheckpointInterval is how often a sweep's progress is written to
	// the sweeps topic; a restart resumes from the last one.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// SweepOnFirstStart sweeps every active mark when the sweeps topic is
	// empty (a deployment's first start); by default they are recorded as
	// swept, the live detector having watched them all along.
	SweepOnFirstStart bool `yaml:"sweep_on_first_start"`
}

// Store configures the review service's database.
type Store struct {
	// DSN is "sqlite:PATH" (the embedded default) or a PostgreSQL URL.
	DSN string `yaml:"dsn"`
}

// Review configures the review flow of `markwatch serve`.
type Review struct {
	// GroupID is the consumer group reading the complaints topic.
	GroupID string `yaml:"group_id"`
	// ComplaintsDLQ receives complaints that can never be stored.
	ComplaintsDLQ string `yaml:"complaints_dlq"`
	// StrikeTTL is how long a strike counts towards the ladder.
	StrikeTTL time.Duration `yaml:"strike_ttl"`
	// ReinstateAfter is the counter-notice waiting period.
	ReinstateAfter time.Duration `yaml:"reinstate_after"`
	// TimerInterval is how often due reinstatements are looked for.
	TimerInterval time.Duration `yaml:"timer_interval"`
	// Ladder is the repeat-infringer policy: the seller status reached at
	// a number of active strikes, in climbing order.
	Ladder []Rung `yaml:"ladder"`
	// GoodFaithRate and MinDecisions: a holder whose acceptance rate is
	// above the rate over at least that many decisions is good-faith.
	GoodFaithRate float64 `yaml:"good_faith_rate"`
	MinDecisions  int     `yaml:"min_decisions"`
	// ThrottleFloor: a holder below it (over at least 10 decisions) is
	// throttled.
	ThrottleFloor float64 `yaml:"throttle_floor"`
	// CounterNoticeWindow is how long after an uphold a seller may
	// counter-notify; its notices state the deadline.
	CounterNoticeWindow time.Duration `yaml:"counter_notice_window"`
	// EducateFirstNominative warns and educates a seller instead of
	// striking it on its first nominative-use-like case (the brand's name
	// in the title of a compatible accessory).
	EducateFirstNominative bool `yaml:"educate_first_nominative"`
	// Calibration configures what decisions recommend as a mark's
	// threshold (GET /v1/marks/{id}/calibration).
	Calibration Calibration `yaml:"calibration"`
	// BuyerReports configures the consumer of kafka.topics.buyer_reports.
	BuyerReports BuyerReports `yaml:"buyer_reports"`
	// Quarantine configures the flood quarantine (internal/quarantine).
	Quarantine Quarantine `yaml:"quarantine"`
	// Retention configures how long decided complaints and the records
	// of the review flow are kept (internal/retention).
	Retention Retention `yaml:"retention"`
	// SearchIndex is the directory of serve's complaint search index, for
	// a store that does not match text itself. Deprecated: none does any
	// more. PostgreSQL matches text from complaint_terms (migration 20)
	// and SQLite from complaint_term_keys (migration 24), so no index is
	// built and a directory given here is not used (serve logs a
	// warning); kept so that existing configurations still load. Empty
	// (the default) kept the index in memory, built from the store at
	// every start; on disk, a restart served from it at once.
	SearchIndex string `yaml:"search_index"`
	// Networks configures seller networks (GET /v1/sellers/{id}/network).
	Networks Networks `yaml:"networks"`
}

// Networks configures the review service's consumer of the listings topic
// that links sellers into networks.
type Networks struct {
	// Enabled runs the consumer in markwatch serve; off by default.
	Enabled bool `yaml:"enabled"`
	// GroupID is its consumer group on kafka.topics.listings, apart from
	// the detectors' kafka.group_id.
	GroupID string `yaml:"group_id"`
	// CommonAt: a handle, photo, ship-from or payout account shared by
	// more sellers than this is common and links nobody.
	CommonAt int `yaml:"common_at"`
	// Photos links sellers by listing photo too: from the hashes the
	// detectors publish on kafka.topics.listing_photos when it is set,
	// otherwise by fetching and hashing each listing image again under
	// detection.image's limits.
	Photos bool `yaml:"photos"`
	// PhotosGroupID is the consumer group on kafka.topics.listing_photos.
	PhotosGroupID string `yaml:"photos_group_id"`
}

// PhotosFromTopic tells whether review.networks links photos from the
// hashes the detectors publish rather than fetching the images.
func (c Config) PhotosFromTopic() bool {
	return c.Review.Networks.Photos && c.Kafka.Topics.ListingPhotos != ""
}

// Retention configures the retention job of markwatch serve. A zero
// period keeps its kind forever, the default: deleting is opted into.
type Retention struct {
	// DecidedComplaints is how long a decided complaint (upheld, rejected,
	// reinstated) is kept after the month it arrived in, unless a strike
	// or counter-notice still kept refers to it.
	DecidedComplaints time.Duration `yaml:"decided_complaints"`
	// Records is how long strikes are kept after they expire, closed
	// counter-notices after they closed, and audit entries after the
	// month they were written in: the record keeping the law asks for.
	// When both are set it must be at least DecidedComplaints, so that a
	// complaint never outlives the audit of its decision.
	Records time.Duration `yaml:"records"`
	// Interval is how often the job runs; it also makes the partitions
	// of the coming months on PostgreSQL.
	Interval time.Duration `yaml:"interval"`
	// Batch is how many rows one deleting transaction takes.
	Batch int `yaml:"batch"`
	// PartitionsAhead is how many months of partitions, the current one
	// included, the job keeps made on PostgreSQL.
	PartitionsAhead int `yaml:"partitions_ahead"`
}

// Quarantine configures the flood quarantine the review service runs: a
// mark, reference image or variant that files far more complaints than its
// baseline, or whose decided complaints fall under a precision floor, stops
// filing until an admin releases it. Zero fields take the package's
// defaults (1h window, 7-day baseline, 10x, 50 complaints, 7-day precision
// window, floor 0.2 over 20 decisions, 80% share, checked every minute).
type Quarantine struct {
	// Disabled turns the watcher off (quarantines already set still hold
	// until released).
	Disabled        bool          `yaml:"disabled"`
	Interval        time.Duration `yaml:"interval"`
	Window          time.Duration `yaml:"window"`
	Baseline        time.Duration `yaml:"baseline"`
	Factor          float64       `yaml:"factor"`
	MinCount        int           `yaml:"min_count"`
	PrecisionWindow time.Duration `yaml:"precision_window"`
	// PrecisionFloor below 0 turns the precision trigger off.
	PrecisionFloor float64 `yaml:"precision_floor"`
	MinDecisions   int     `yaml:"min_decisions"`
	Share          float64 `yaml:"share"`
}

// BuyerReports configures the review service's consumer of buyer reports.
type BuyerReports struct {
	// Enabled runs the consumer in markwatch serve; off by default, so
	// that a deployment without the topic does not wait on it.
	Enabled bool `yaml:"enabled"`
	// GroupID is its consumer group, apart from review.group_id.
	GroupID string `yaml:"group_id"`
	// DLQ receives reports that can never be stored.
	DLQ string `yaml:"dlq"`
	// ComplaintWeight is the weight of independent counterfeit reports
	// (distinct buyers; a new account a quarter; a heavy reporter thinned)
	// at which a listing becomes a buyer complaint or its complaint comes
	// first in the queue.
	ComplaintWeight float64 `yaml:"complaint_weight"`
}

// Calibration configures threshold recommendations from decisions.
type Calibration struct {
	// Target is the precision a recommended threshold keeps on the
	// decided complaints at or above it.
	Target float64 `yaml:"target"`
	// MinDecisions is how many decided complaints at or above a threshold
	// it takes before it is recommended.
	MinDecisions int `yaml:"min_decisions"`
	// WindowDays is how many days of complaints a calibration reads
	// unless the request names another window.
	WindowDays int `yaml:"window_days"`
}

// Rung is one step of the strike ladder.
type Rung struct {
	Strikes int `yaml:"strikes"`
	// Status is warned, suspended or terminated.
	Status string `yaml:"status"`
}

// Kafka configures the streaming detector's brokers, group and topics.
type Kafka struct {
	Brokers []string `yaml:"brokers"`
	GroupID string   `yaml:"group_id"`
	// Membership chooses the detector's consumer-group client:
	// MembershipStatic (the default), markwatch's own member with static
	// membership (KIP-345) and incremental cooperative rebalancing
	// (KIP-429), or MembershipKafkaGo, kafka-go's ConsumerGroup (dynamic
	// membership, eager rebalancing), deprecated and kept for one release
	// as a way back.
	Membership string `yaml:"membership"`
	// GroupInstanceID is the detector's group.instance.id with static
	// membership: a restart within the session timeout gets its
	// partitions back without a rebalance. It must be unique per detector
	// and stable across its restarts (a StatefulSet pod name). Empty (the
	// default): the host name, a dash and GroupInstanceIndex.
	GroupInstanceID string `yaml:"group_instance_id"`
	// GroupInstanceIndex is the index in the default GroupInstanceID. A
	// negative value (the default, -1) takes the lowest index that no
	// other detector of this group on this host holds (a lock file in the
	// temporary directory), so that several detectors on one host get
	// distinct ids and a restarted one gets its id back.
	GroupInstanceIndex int    `yaml:"group_instance_index"`
	Topics             Topics `yaml:"topics"`
	// Concurrency is the number of listings handled at once; listings with
	// the same key are handled in order.
	Concurrency    int           `yaml:"concurrency"`
	CommitInterval time.Duration `yaml:"commit_interval"`
	DrainTimeout   time.Duration `yaml:"drain_timeout"`
	HandlerTimeout time.Duration `yaml:"handler_timeout"`
	// MarksDebounce gathers mark updates before an index rebuild.
	MarksDebounce time.Duration `yaml:"marks_debounce"`
}

// ValidInstanceID reports whether id is empty or a group.instance.id
// Kafka accepts: at most 249 of [a-zA-Z0-9._-], not "." or "..". The
// broker refuses others with a less clear error.
func ValidInstanceID(id string) bool {
	if len(id) > 249 || id == "." || id == ".." {
		return false
	}
	return !strings.ContainsFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	})
}

// The values of Kafka.Membership.
const (
	MembershipStatic  = "static"
	MembershipKafkaGo = "kafka-go"
)

// Topics names the topics markwatch reads and writes.
type Topics struct {
	Listings      string `yaml:"listings"`
	Marks         string `yaml:"marks"`
	Complaints    string `yaml:"complaints"`
	DLQ           string `yaml:"dlq"`
	Takedowns     string `yaml:"takedowns"`
	SellerActions string `yaml:"seller_actions"`
	// SellerNotices receives the statements of reasons sent to sellers.
	SellerNotices string `yaml:"seller_notices"`
	// Sweeps (compacted) holds the progress of retroactive sweeps.
	Sweeps string `yaml:"sweeps"`
	// BuyerReports carries buyers' reports of fakes to the review
	// service (review.buyer_reports).
	BuyerReports string `yaml:"buyer_reports"`
	// NegativeBanks (compacted) carries the evidence reviewers marked as
	// not distinctive, from the review service to every detector; empty
	// turns the bank off in detectors (quarantines still apply).
	NegativeBanks string `yaml:"negative_banks"`
	// ListingPhotos, when set, is where detectors publish the hashes of
	// each listing's images (domain.ListingPhotos, key = listing_id), and
	// where review.networks reads them instead of fetching and hashing
	// every image a second time. Empty (the default) leaves it off.
	ListingPhotos string `yaml:"listing_photos"`
}

// HTTP configures the metrics, health and API listener.
type HTTP struct {
	Listen string `yaml:"listen"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
}

// Detection configures scoring.
type Detection struct {
	// Threshold is the default complaint threshold for marks without one.
	Threshold float64 `yaml:"threshold"`
	// RuleVersion is part of every complaint id; bump it when rules change.
	RuleVersion string `yaml:"rule_version"`
	// Base is the score share of a mere use of a mark (see matchers/score).
	Base          float64 `yaml:"base"`
	MaxCandidates int     `yaml:"max_candidates"`
	Text          Text    `yaml:"text"`
	Price         Price   `yaml:"price"`
	Image         Image   `yaml:"image"`
	Cues          Cues    `yaml:"cues"`
	Logo          Logo    `yaml:"logo"`
}

// Logo configures logo detection inside sellers' own photos
// (matchers/logo). It is off by default: it costs a feature pass and a
// look-up per listing image (about 30 ms more CPU per listing at 1,000
// logos with the defaults, 40 ms in one stage, so image throughput falls
// from 200–250 to 52–72 listings/s on 2 cores, 40–47/s in one stage;
// docs/BENCHMARKS.md, "Two stages by default", 2026-12-04) and its
// recall at a low false-match rate is still below the targets
// (docs/BENCHMARKS.md, "Logo inside a seller's own photo"). Turn it on
// where logos in sellers' photos matter more than image throughput.
type Logo struct {
	// Enabled turns logo detection on: listing images are decoded for
	// their local features too, and marks' logo features are indexed.
	// Off, listing images are decoded for their hashes only.
	Enabled bool `yaml:"enabled"`
	// MinInliers and MinCoverage are the verification thresholds
	// (logo.Options); 0 takes the measured defaults.
	MinInliers  int     `yaml:"min_inliers"`
	MinCoverage float64 `yaml:"min_coverage"`
	// MinDistinct is the least summed distinctiveness of a fit's
	// inliers (logo.Options.MinDistinct; 0: the measured default, 1.0).
	MinDistinct float64 `yaml:"min_distinct"`
	// MinPartialCoverage is the least coverage of a partly seen logo
	// (logo.Options.MinPartialCoverage; 0: the measured default, 0.1;
	// negative: none): a fit passing every threshold but MinCoverage is
	// evidence of kind logo_partial, which the scorer counts only in
	// context and not in a listing that uses another mark.
	MinPartialCoverage float64 `yaml:"min_partial_coverage"`
	// MinEvenness is the least evenness of a whole logo detection
	// (logo.Options.MinEvenness; 0: the measured default, 0.7;
	// negative: not checked): the share of the logo's keypoints in parts
	// of it the fit explains at least a third as well as the whole.
	// Another brand's logo built from the same badge, emblem or
	// typeface fits where they share a part, not evenly across the
	// logo; such a fit is evidence of kind logo_partial, counted only in
	// context. 0.8 cuts more false matches for more missed logos
	// (docs/BENCHMARKS.md).
	MinEvenness float64 `yaml:"min_evenness"`
	// MinGuidedEvenness is the least evenness of a whole logo
	// detection's keypoints confirmed in place
	// (logo.Options.MinGuidedEvenness; 0: the measured default, 0.7;
	// negative: not checked): at the fit's pose, each of the logo's
	// keypoints is looked for where it should be in the photo, and a
	// logo confirmed in some parts only (another brand's badge with
	// another name) is evidence of kind logo_partial, counted only in
	// context (docs/BENCHMARKS.md, "Guided matching").
	MinGuidedEvenness float64 `yaml:"min_guided_evenness"`
	// MinDenseShare is the least share of a whole logo detection's
	// keypoints confirmed by the photo's own pixels
	// (logo.Options.MinDenseShare; 0: the measured default, 0.6;
	// negative: not checked): at the fit's pose, refined to a
	// homography on its inliers, a descriptor is taken from the photo
	// where each of the logo's keypoints should be (each of its samples
	// where the pose puts the logo's own), and a logo
	// confirmed there in some parts only (another brand's look-alike)
	// is evidence of kind logo_partial, counted only in context
	// (docs/BENCHMARKS.md, "Dense verification"). Checked, the
	// detector keeps each listing image's working plane (640 KB for an
	// 800×800 photo) until the listing is matched, and a repeated image
	// is not served from the image cache.
	MinDenseShare float64 `yaml:"min_dense_share"`
	// MinDenseEvenness is the least share of a whole logo detection's
	// keypoints lying in parts of the logo (a 4×4 grid) that the photo's
	// pixels confirm at 0.4 or more each (logo.Options.MinDenseEvenness;
	// 0: the measured default, 0.8; negative: not checked; needs
	// min_dense_share on). A look-alike confirmed over its shared badge
	// and emblem but not its name is evidence in context only
	// (docs/BENCHMARKS.md, "Dense evenness", "Rivals settled by the
	// pixels").
	MinDenseEvenness float64 `yaml:"min_dense_evenness"`
	// RivalDenseMargin lets the photo's pixels settle a rival
	// (logo.Options.RivalDenseMargin; 0: the measured default, 0.4;
	// negative: off; needs min_dense_share on): a fit confirmed by them
	// at rival_min_dense or more (0: 0.6), and by this much more than
	// every other logo fitted over its region, is not rejected by that
	// rival (docs/BENCHMARKS.md, "Rivals settled by the pixels").
	RivalDenseMargin float64 `yaml:"rival_dense_margin"`
	RivalMinDense    float64 `yaml:"rival_min_dense"`
	// RivalApartMargin lets the pixels settle a rival over the parts
	// the two logos do not share (logo.Options.RivalApartMargin; 0: the
	// measured default, 0.1; negative: off; needs min_dense_share on):
	// a fit whose own parts are confirmed at rival_apart_min or more (0:
	// 0.6), and by this much more than each rival's own parts, is not
	// rejected by that rival (docs/BENCHMARKS.md, "Rivals settled over
	// their own parts").
	RivalApartMargin float64 `yaml:"rival_apart_margin"`
	RivalApartMin    float64 `yaml:"rival_apart_min"`
	// StrongDense is the dense share at which, with a dense evenness of
	// 0.9 or more, a fit needs min_evenness and min_guided_evenness less
	// 0.15 (logo.Options.StrongDense; 0: the measured default, 0.7;
	// negative: off; needs min_dense_share on): the pixels, read at every
	// keypoint of a small logo, say more than its few keypoints'
	// evenness (docs/BENCHMARKS.md, "Strong pixel confirmation").
	StrongDense float64 `yaml:"strong_dense"`
	// ColourMinDense is the least share of a logo's keypoints a colour
	// plane's pixels must confirm for a logo found in that plane to be
	// kept (logo.Options.ColourMinDense; 0: the measured default, 0.9;
	// negative: colour planes not used; needs min_dense_share on). A
	// listing photo's Cb and Cr planes are decoded with its luma and
	// described apart, and matched as photos of their own: a logo
	// printed in a colour about as bright as the product under it (teal
	// on brown) has no corners in the luma. About 12 ms more CPU per
	// listing image end to end (their decode, features and matching:
	// 40% more of logo detection's), and the detector keeps their
	// planes (320 KB for an 800×800 photo) with the luma's until the
	// listing is matched (docs/BENCHMARKS.md, "Colour planes").
	ColourMinDense float64 `yaml:"colour_min_dense"`
	// FastFeatures leaves out the enlarged first level of a listing
	// image's feature pyramid (logo.ExtractorOptions.NoUpsample): about
	// 15 ms less CPU per listing image, for fewer logos found at 8–12%
	// of the photo's width (fixtures' logo_in_photo recall 0.767 instead
	// of 0.80; docs/BENCHMARKS.md).
	FastFeatures bool `yaml:"fast_features"`
	// Shortlist is how many logos two-stage matching pairs a photo with
	// (logo.Options.Shortlist; 0: the default, 64; -1: one stage, every
	// logo paired, which 0 meant before 2026-12-04): that many logos
	// are shortlisted from ShortlistTables of the index's 16 tables (0:
	// 4), then paired with the photo alone, and the fits that can be
	// kept weighed against the whole index. At 1,000 drawn logos it
	// costs about a third of one stage's matching for the same curve
	// within the RANSAC seed's spread; with no more logos indexed than
	// the shortlist holds, matching is one stage. Cost and recall per
	// setting: docs/BENCHMARKS.md ("Two stages by default").
	Shortlist       int `yaml:"shortlist"`
	ShortlistTables int `yaml:"shortlist_tables"`
	// ShortlistNearest is how many nearest logos each listing
	// descriptor votes for in the shortlist stage
	// (logo.Options.ShortlistNearest; 0: 16; -1: every logo, as before
	// the key): 16 cost ~40% less matching CPU with the same curve.
	ShortlistNearest int `yaml:"shortlist_nearest"`
	// ShortlistMargin keeps the shortlist stage's votes to the logos
	// within this many bits of a listing descriptor's nearest
	// (logo.Options.ShortlistMargin; 0: the default, 6; -1: none, the
	// ratio test's reach, which 0 meant before 2026-12-04): 6 costs a
	// fifth less matching than none.
	ShortlistMargin int `yaml:"shortlist_margin"`
	// ShortlistMinVotes is the least first-stage score of a shortlisted
	// logo that the second stage pairs with the photo
	// (logo.Options.ShortlistMinVotes; 0: the default, min_inliers ×
	// shortlist_tables / 16, 4 at the defaults; negative: every
	// shortlisted logo, as before 2026-12-04): about a quarter less CPU
	// per listing end to end, the curve unchanged.
	ShortlistMinVotes float64 `yaml:"shortlist_min_votes"`
	// MaxImages is how many of a listing's images, from the first, logo
	// detection looks at (0: the default, 4; negative: every image, up
	// to limits.max_images). Each image costs tens of milliseconds of
	// CPU (docs/BENCHMARKS.md), and sellers put the product and its logo
	// in the first photos; the rest are still hashed against official
	// photos and logos.
	MaxImages int `yaml:"max_images"`
}

// DefaultLogoMaxImages is detection.logo.max_images when 0.
const DefaultLogoMaxImages = 4

// FeatureImages is how many of a listing's first images get local
// features for logo detection: MaxImages resolved (0 means every image).
func (l Logo) FeatureImages() int {
	switch {
	case l.MaxImages == 0:
		return DefaultLogoMaxImages
	case l.MaxImages < 0:
		return 0
	}
	return l.MaxImages
}

// Text configures the word-mark matcher.
type Text struct {
	Fuzzy               bool `yaml:"fuzzy"`
	FuzzyMinRunes       int  `yaml:"fuzzy_min_runes"`
	Fuzzy2MinRunes      int  `yaml:"fuzzy2_min_runes"`
	FuzzyPrefix         int  `yaml:"fuzzy_prefix"`
	FuzzyCacheSize      int  `yaml:"fuzzy_cache_size"`
	MaxDescriptionBytes int  `yaml:"max_description_bytes"`
}

// Price configures the price matcher.
type Price struct {
	// Floor is the counterfeit floor as a share of the reference price.
	Floor float64 `yaml:"floor"`
	// Base is the currency the rates are quoted against.
	Base string `yaml:"base"`
	// Rates are units of each currency per one unit of Base.
	Rates map[string]float64 `yaml:"rates"`
}

// Image configures image fetching and matching.
type Image struct {
	// MaxDistance is the largest Hamming distance (of 64) counted as a
	// match; 0 takes the matcher's measured default.
	MaxDistance int   `yaml:"max_distance"`
	MaxBytes    int64 `yaml:"max_bytes"`
	MaxPixels   int64 `yaml:"max_pixels"`
	// FetchTimeout caps one image fetch, connection to last byte.
	FetchTimeout time.Duration `yaml:"fetch_timeout"`
	// AllowHosts lists the http(s) hosts (host or host:port) images may be
	// fetched from; empty means no http(s) fetching.
	AllowHosts []string `yaml:"allow_hosts"`
	// AllowPrivate lets image fetches reach loopback, private and other
	// internal addresses. Test and `markwatch dev` only: it turns off the
	// SSRF protection that keeps listings from probing the internal network.
	AllowPrivate bool `yaml:"allow_private"`
	// Concurrency is how many images are fetched and hashed at once.
	Concurrency int `yaml:"concurrency"`
	// CacheSize is how many image hashes are kept by URL.
	CacheSize int `yaml:"cache_size"`
	// MaxDecodedBytes caps what decoding one image may take (pixels ×
	// bytes per pixel of its colour model and depth), estimated from its
	// header, which refuses a larger one before decoding it: a 300 KB
	// 16-bit PNG can declare 320 MB of pixels.
	MaxDecodedBytes int64 `yaml:"max_decoded_bytes"`
	// MaxDecodingBytes caps that memory summed over the images a process
	// decodes at once (listing images in detect, reference images in
	// score and eval, uploads in serve); an image waits for its share.
	MaxDecodingBytes int64 `yaml:"max_decoding_bytes"`
	// DecodeConcurrency is how many images a process decodes at once.
	DecodeConcurrency int `yaml:"decode_concurrency"`
	// DecodeWait is how long a mark image upload waits for its turn to be
	// decoded before `serve` answers 503 with Retry-After.
	DecodeWait time.Duration `yaml:"decode_wait"`
}

// Cues adds to or overrides the built-in cue lexicon.
type Cues struct {
	Extra []Cue `yaml:"extra"`
}

// Cue is one counterfeit cue phrase.
type Cue struct {
	Phrase   string  `yaml:"phrase"`
	Language string  `yaml:"language"`
	Weight   float64 `yaml:"weight"`
}

// Default returns the configuration used when no file is given.
func Default() Config {
	return Config{
		Detection: Detection{
			Threshold:     0.5,
			RuleVersion:   "r1",
			Base:          0.35,
			MaxCandidates: 64,
			Text: Text{
				Fuzzy: true, FuzzyMinRunes: 5, Fuzzy2MinRunes: 6, FuzzyPrefix: 1,
				FuzzyCacheSize: 100000, MaxDescriptionBytes: 8192,
			},
			Price: Price{
				Floor: 0.3, Base: "USD",
				Rates: map[string]float64{
					"USD": 1, "EUR": 0.92, "GBP": 0.79, "CNY": 7.2, "JPY": 150, "RUB": 92,
					"TRY": 32, "BRL": 5.0, "MXN": 17, "INR": 83, "AED": 3.67, "SAR": 3.75,
					"KRW": 1350, "CAD": 1.36, "AUD": 1.52, "CHF": 0.88, "PLN": 4.0,
				},
			},
			Image: Image{
				MaxBytes: 10 << 20, MaxPixels: 40_000_000, FetchTimeout: 10 * time.Second,
				Concurrency: 8, CacheSize: 10000,
				MaxDecodedBytes: 64 << 20, MaxDecodingBytes: 128 << 20, DecodeConcurrency: 4,
				DecodeWait: 5 * time.Second,
			},
		},
		Limits: domain.DefaultLimits,
		Kafka: Kafka{
			Brokers: []string{"127.0.0.1:9092"},
			GroupID: "markwatch-detector",
			// Static membership with cooperative rebalancing; the
			// instance id from the host name and a free index.
			Membership: MembershipStatic, GroupInstanceIndex: -1,
			Topics: Topics{
				Listings: "listings", Marks: "marks", Complaints: "complaints", DLQ: "listings.dlq",
				Takedowns: "takedowns", SellerActions: "seller-actions", SellerNotices: "seller-notices", Sweeps: "sweeps", BuyerReports: "buyer-reports",
				NegativeBanks: "negative-banks",
			},
			Concurrency: 8, CommitInterval: 500 * time.Millisecond, DrainTimeout: 8 * time.Second,
			HandlerTimeout: 30 * time.Second, MarksDebounce: 250 * time.Millisecond,
		},
		HTTP:  HTTP{Listen: "127.0.0.1:8080"},
		Log:   Log{Level: "info", Format: "json"},
		Store: Store{DSN: "sqlite:var/markwatch.db"},
		Review: Review{
			GroupID: "markwatch-review", ComplaintsDLQ: "complaints.dlq",
			StrikeTTL: 365 * 24 * time.Hour, ReinstateAfter: 10 * 24 * time.Hour, TimerInterval: time.Minute,
			Ladder:        []Rung{{1, "warned"}, {3, "suspended"}, {5, "terminated"}},
			GoodFaithRate: 0.9, MinDecisions: 50, ThrottleFloor: 0.5,
			CounterNoticeWindow: 30 * 24 * time.Hour,
			Calibration:         Calibration{Target: 0.95, MinDecisions: 30, WindowDays: 90},
			BuyerReports:        BuyerReports{GroupID: "markwatch-buyer-reports", DLQ: "buyer-reports.dlq", ComplaintWeight: 3},
			Retention:           Retention{Interval: time.Hour, Batch: 1000, PartitionsAhead: 3},
			Networks:            Networks{GroupID: "markwatch-networks", CommonAt: 100, Photos: true, PhotosGroupID: "markwatch-networks-photos"},
		},
		Sweep: Sweep{
			GroupID: "markwatch-sweeper", Lookback: 30 * 24 * time.Hour, Rate: 20000, Settle: 5 * time.Second, CheckpointInterval: 5 * time.Second,
		},
	}
}

// ApplyEnv overrides the file with MARKWATCH_* environment variables:
// MARKWATCH_KAFKA_BROKERS (comma-separated), MARKWATCH_KAFKA_GROUP_ID,
// MARKWATCH_KAFKA_GROUP_INSTANCE_ID, MARKWATCH_KAFKA_MEMBERSHIP,
// MARKWATCH_HTTP_LISTEN, MARKWATCH_LOG_LEVEL, MARKWATCH_STORE_DSN. getenv
// is os.Getenv in main.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	if v := getenv("MARKWATCH_KAFKA_BROKERS"); v != "" {
		c.Kafka.Brokers = splitList(v)
	}
	if v := getenv("MARKWATCH_KAFKA_GROUP_ID"); v != "" {
		c.Kafka.GroupID = v
	}
	if v := getenv("MARKWATCH_KAFKA_GROUP_INSTANCE_ID"); v != "" {
		c.Kafka.GroupInstanceID = v
	}
	if v := getenv("MARKWATCH_KAFKA_MEMBERSHIP"); v != "" {
		c.Kafka.Membership = v
	}
	if v := getenv("MARKWATCH_HTTP_LISTEN"); v != "" {
		c.HTTP.Listen = v
	}
	if v := getenv("MARKWATCH_LOG_LEVEL"); v != "" {
		c.Log.Level = v
	}
	if v := getenv("MARKWATCH_STORE_DSN"); v != "" {
		c.Store.DSN = v
	}
	return c.Validate()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Load reads the file at path over the defaults. An empty path returns
// the defaults.
func Load(path string) (Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes YAML over the defaults and validates the result.
func Parse(data []byte) (Config, error) {
	cfg := Default()
	// Rates given in the file replace the default table rather than merge
	// into it, so an operator sees exactly the rates in force.
	cfg.Detection.Price.Rates = nil
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if cfg.Detection.Price.Rates == nil {
		cfg.Detection.Price.Rates = Default().Detection.Price.Rates
	}
	cfg.Limits = cfg.Limits.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate names the first invalid field.
func (c *Config) Validate() error {
	d := &c.Detection
	switch {
	case d.Threshold <= 0 || d.Threshold > 1:
		return fmt.Errorf("detection.threshold: must be in (0, 1], got %g", d.Threshold)
	case d.Base < 0 || d.Base >= 1:
		return fmt.Errorf("detection.base: must be in [0, 1), got %g", d.Base)
	case strings.TrimSpace(d.RuleVersion) == "":
		return errors.New("detection.rule_version: required")
	case d.MaxCandidates <= 0:
		return fmt.Errorf("detection.max_candidates: must be positive, got %d", d.MaxCandidates)
	case d.Logo.MinDistinct < 0:
		return fmt.Errorf("detection.logo.min_distinct: must be 0 (the default) or positive, got %g", d.Logo.MinDistinct)
	case d.Logo.MinPartialCoverage > 1 || (d.Logo.MinCoverage > 0 && d.Logo.MinPartialCoverage > d.Logo.MinCoverage):
		return fmt.Errorf("detection.logo.min_partial_coverage: must be at most 1 and at most min_coverage, got %g", d.Logo.MinPartialCoverage)
	case d.Logo.MinEvenness > 1:
		return fmt.Errorf("detection.logo.min_evenness: must be at most 1 (0: the default, negative: not checked), got %g", d.Logo.MinEvenness)
	case d.Logo.MinGuidedEvenness > 1:
		return fmt.Errorf("detection.logo.min_guided_evenness: must be at most 1 (0: the default, negative: not checked), got %g", d.Logo.MinGuidedEvenness)
	case d.Logo.MinDenseShare > 1:
		return fmt.Errorf("detection.logo.min_dense_share: must be at most 1 (0: the default, negative: not checked), got %g", d.Logo.MinDenseShare)
	case d.Logo.MinDenseEvenness > 1:
		return fmt.Errorf("detection.logo.min_dense_evenness: must be at most 1 (0: the default, negative: not checked), got %g", d.Logo.MinDenseEvenness)
	case d.Logo.RivalDenseMargin > 1 || d.Logo.RivalMinDense < 0 || d.Logo.RivalMinDense > 1:
		return fmt.Errorf("detection.logo.rival_dense_margin: must be at most 1 (0: the default, negative: off), and rival_min_dense in [0, 1] (0: the default), got %g and %g", d.Logo.RivalDenseMargin, d.Logo.RivalMinDense)
	case d.Logo.StrongDense > 1:
		return fmt.Errorf("detection.logo.strong_dense: must be at most 1 (0: the default, negative: off), got %g", d.Logo.StrongDense)
	case d.Logo.ColourMinDense > 1 || math.IsNaN(d.Logo.ColourMinDense):
		return fmt.Errorf("detection.logo.colour_min_dense: must be at most 1 (0: the default, negative: colour planes not used), got %g", d.Logo.ColourMinDense)
	case d.Logo.ColourMinDense > 0 && d.Logo.MinDenseShare < 0:
		return fmt.Errorf("detection.logo.colour_min_dense: %g needs min_dense_share on (0 or positive), got %g", d.Logo.ColourMinDense, d.Logo.MinDenseShare)
	case d.Logo.StrongDense > 0 && d.Logo.MinDenseShare < 0:
		return fmt.Errorf("detection.logo.strong_dense: %g needs min_dense_share on (0 or positive), got %g", d.Logo.StrongDense, d.Logo.MinDenseShare)
	case d.Logo.RivalApartMargin > 1 || d.Logo.RivalApartMin < 0 || d.Logo.RivalApartMin > 1:
		return fmt.Errorf("detection.logo.rival_apart_margin: must be at most 1 (0: the default, negative: off), and rival_apart_min in [0, 1] (0: the default), got %g and %g", d.Logo.RivalApartMargin, d.Logo.RivalApartMin)
	case d.Logo.RivalApartMargin > 0 && d.Logo.MinDenseShare < 0:
		return fmt.Errorf("detection.logo.rival_apart_margin: %g needs min_dense_share on (0 or positive), got %g", d.Logo.RivalApartMargin, d.Logo.MinDenseShare)
	case d.Logo.RivalDenseMargin > 0 && d.Logo.MinDenseShare < 0:
		return fmt.Errorf("detection.logo.rival_dense_margin: %g needs min_dense_share on (0 or positive), got %g", d.Logo.RivalDenseMargin, d.Logo.MinDenseShare)
	case d.Logo.MinDenseEvenness > 0 && d.Logo.MinDenseShare < 0:
		return fmt.Errorf("detection.logo.min_dense_evenness: %g needs min_dense_share on (0 or positive), got %g", d.Logo.MinDenseEvenness, d.Logo.MinDenseShare)
	case d.Logo.Shortlist < -1:
		return fmt.Errorf("detection.logo.shortlist: must be -1 (one stage), 0 (the default, 64) or positive, got %d", d.Logo.Shortlist)
	case d.Logo.ShortlistTables < 0 || d.Logo.ShortlistTables > 16:
		return fmt.Errorf("detection.logo.shortlist_tables: must be in [0, 16], got %d", d.Logo.ShortlistTables)
	case d.Logo.ShortlistMargin < -1 || d.Logo.ShortlistMargin > 128:
		return fmt.Errorf("detection.logo.shortlist_margin: must be -1 (none), 0 (the default, 6) or up to 128 bits, got %d", d.Logo.ShortlistMargin)
	case math.IsNaN(d.Logo.ShortlistMinVotes) || math.IsInf(d.Logo.ShortlistMinVotes, 0):
		return fmt.Errorf("detection.logo.shortlist_min_votes: must be a number (0: the default, negative: none), got %g", d.Logo.ShortlistMinVotes)
	case d.Logo.ShortlistNearest < -1:
		return fmt.Errorf("detection.logo.shortlist_nearest: must be -1 (every logo), 0 (the default) or positive, got %d", d.Logo.ShortlistNearest)
	case d.Text.FuzzyMinRunes < 3:
		return fmt.Errorf("detection.text.fuzzy_min_runes: must be at least 3, got %d", d.Text.FuzzyMinRunes)
	case d.Text.Fuzzy2MinRunes < d.Text.FuzzyMinRunes:
		return fmt.Errorf("detection.text.fuzzy2_min_runes: must be at least fuzzy_min_runes (%d), got %d", d.Text.FuzzyMinRunes, d.Text.Fuzzy2MinRunes)
	case d.Price.Floor <= 0 || d.Price.Floor >= 1:
		return fmt.Errorf("detection.price.floor: must be in (0, 1), got %g", d.Price.Floor)
	case len(d.Price.Base) != 3:
		return fmt.Errorf("detection.price.base: want a 3-letter currency code, got %q", d.Price.Base)
	case d.Image.MaxDistance < 0 || d.Image.MaxDistance > 32:
		return fmt.Errorf("detection.image.max_distance: must be in [0, 32], got %d", d.Image.MaxDistance)
	case d.Image.MaxBytes <= 0:
		return fmt.Errorf("detection.image.max_bytes: must be positive, got %d", d.Image.MaxBytes)
	case d.Image.MaxPixels <= 0:
		return fmt.Errorf("detection.image.max_pixels: must be positive, got %d", d.Image.MaxPixels)
	case d.Image.FetchTimeout <= 0:
		return fmt.Errorf("detection.image.fetch_timeout: must be positive, got %s", d.Image.FetchTimeout)
	case d.Image.AllowPrivate && len(d.Image.AllowHosts) == 0:
		return errors.New("detection.image.allow_private: set without detection.image.allow_hosts, so it would allow nothing")
	case d.Image.Concurrency <= 0 || d.Image.Concurrency > 256:
		return fmt.Errorf("detection.image.concurrency: must be in [1, 256], got %d", d.Image.Concurrency)
	case d.Image.MaxDecodedBytes <= 0:
		return fmt.Errorf("detection.image.max_decoded_bytes: must be positive, got %d", d.Image.MaxDecodedBytes)
	case d.Image.MaxDecodingBytes < d.Image.MaxDecodedBytes:
		return fmt.Errorf("detection.image.max_decoding_bytes: must be at least max_decoded_bytes (%d), got %d", d.Image.MaxDecodedBytes, d.Image.MaxDecodingBytes)
	case d.Image.DecodeConcurrency <= 0 || d.Image.DecodeConcurrency > 256:
		return fmt.Errorf("detection.image.decode_concurrency: must be in [1, 256], got %d", d.Image.DecodeConcurrency)
	case d.Image.DecodeWait <= 0:
		return fmt.Errorf("detection.image.decode_wait: must be positive, got %s", d.Image.DecodeWait)
	}
	for cur, r := range d.Price.Rates {
		if len(cur) != 3 || strings.ToUpper(cur) != cur {
			return fmt.Errorf("detection.price.rates.%s: want a 3-letter upper-case currency code", cur)
		}
		if !(r > 0) {
			return fmt.Errorf("detection.price.rates.%s: rate must be positive, got %g", cur, r)
		}
	}
	if _, ok := d.Price.Rates[d.Price.Base]; !ok {
		return fmt.Errorf("detection.price.rates: has no rate for the base currency %s", d.Price.Base)
	}
	if err := c.validateStreaming(); err != nil {
		return err
	}
	if err := c.validateSweep(); err != nil {
		return err
	}
	for i, c := range d.Cues.Extra {
		if strings.TrimSpace(c.Phrase) == "" {
			return fmt.Errorf("detection.cues.extra[%d].phrase: required", i)
		}
		if c.Weight <= 0 || c.Weight > 1 {
			return fmt.Errorf("detection.cues.extra[%d].weight: must be in (0, 1], got %g", i, c.Weight)
		}
	}
	return nil
}

func (c *Config) validateStreaming() error {
	k := &c.Kafka
	switch {
	case len(k.Brokers) == 0:
		return errors.New("kafka.brokers: at least one broker (host:port) is required")
	case k.GroupID == "":
		return errors.New("kafka.group_id: required")
	case k.Concurrency < 1 || k.Concurrency > 1024:
		return fmt.Errorf("kafka.concurrency: must be in [1, 1024], got %d", k.Concurrency)
	case k.CommitInterval <= 0:
		return fmt.Errorf("kafka.commit_interval: must be positive, got %s", k.CommitInterval)
	case k.DrainTimeout <= 0:
		return fmt.Errorf("kafka.drain_timeout: must be positive, got %s", k.DrainTimeout)
	case k.MarksDebounce < 0 || k.MarksDebounce > 4*time.Second:
		return fmt.Errorf("kafka.marks_debounce: must be in [0, 4s] so a new mark is watched within 5 s, got %s", k.MarksDebounce)
	case k.Membership != "" && k.Membership != MembershipStatic && k.Membership != MembershipKafkaGo:
		return fmt.Errorf("kafka.membership: want %q or %q (deprecated), got %q", MembershipStatic, MembershipKafkaGo, k.Membership)
	case !ValidInstanceID(k.GroupInstanceID):
		return fmt.Errorf("kafka.group_instance_id: at most 249 of [a-zA-Z0-9._-], not . or .., got %q", k.GroupInstanceID)
	case c.HTTP.Listen == "":
		return errors.New("http.listen: required (host:port)")
	}
	for _, b := range k.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return fmt.Errorf("kafka.brokers: %q is not host:port", b)
		}
	}
	topics := map[string]string{
		"listings": k.Topics.Listings, "marks": k.Topics.Marks, "complaints": k.Topics.Complaints, "dlq": k.Topics.DLQ,
	}
	seen := map[string]string{}
	for name, t := range topics {
		if t == "" {
			return fmt.Errorf("kafka.topics.%s: required", name)
		}
		if other, dup := seen[t]; dup {
			return fmt.Errorf("kafka.topics.%s: %q is also kafka.topics.%s", name, t, other)
		}
		seen[t] = name
	}
	if t := k.Topics.ListingPhotos; t != "" {
		if other, dup := seen[t]; dup {
			return fmt.Errorf("kafka.topics.listing_photos: %q is also kafka.topics.%s", t, other)
		}
	}
	switch {
	case c.Store.DSN == "":
		return errors.New("store.dsn: required (sqlite:PATH or postgres://...)")
	case c.Review.GroupID == "":
		return errors.New("review.group_id: required")
	case c.Review.GroupID == k.GroupID:
		return fmt.Errorf("review.group_id: %q is also kafka.group_id; the review service and the detectors must be different groups", k.GroupID)
	case c.Review.ComplaintsDLQ == "" || c.Review.ComplaintsDLQ == k.Topics.Complaints:
		return errors.New("review.complaints_dlq: required, and not the complaints topic")
	case c.Review.StrikeTTL <= 0 || c.Review.ReinstateAfter <= 0 || c.Review.TimerInterval <= 0:
		return errors.New("review.strike_ttl, review.reinstate_after, review.timer_interval: must be positive")
	case c.Review.CounterNoticeWindow <= 0:
		return errors.New("review.counter_notice_window: must be positive")
	case k.Topics.SellerNotices == "":
		return errors.New("kafka.topics.seller_notices: required")
	case k.Topics.SellerNotices == k.Topics.SellerActions || k.Topics.SellerNotices == k.Topics.Takedowns:
		return fmt.Errorf("kafka.topics.seller_notices: %q is also the seller-actions or takedowns topic", k.Topics.SellerNotices)
	case c.Review.GoodFaithRate <= 0 || c.Review.GoodFaithRate > 1 || c.Review.ThrottleFloor < 0 || c.Review.ThrottleFloor >= c.Review.GoodFaithRate:
		return fmt.Errorf("review.good_faith_rate (%g) and review.throttle_floor (%g): want 0 <= floor < rate <= 1", c.Review.GoodFaithRate, c.Review.ThrottleFloor)
	case c.Review.Quarantine.Interval < 0 || c.Review.Quarantine.Window < 0 || c.Review.Quarantine.Baseline < 0 || c.Review.Quarantine.PrecisionWindow < 0:
		return errors.New("review.quarantine: interval, window, baseline and precision_window must not be negative")
	case c.Review.Quarantine.Factor < 0 || c.Review.Quarantine.MinCount < 0 || c.Review.Quarantine.MinDecisions < 0:
		return errors.New("review.quarantine: factor, min_count and min_decisions must not be negative")
	case c.Review.Quarantine.PrecisionFloor > 1 || c.Review.Quarantine.Share < 0 || c.Review.Quarantine.Share > 1:
		return fmt.Errorf("review.quarantine: precision_floor must be at most 1 and share in [0, 1], got %g and %g", c.Review.Quarantine.PrecisionFloor, c.Review.Quarantine.Share)
	case c.Review.Calibration.Target <= 0 || c.Review.Calibration.Target > 1:
		return fmt.Errorf("review.calibration.target: must be in (0, 1], got %g", c.Review.Calibration.Target)
	case c.Review.Calibration.MinDecisions < 1:
		return fmt.Errorf("review.calibration.min_decisions: must be positive, got %d", c.Review.Calibration.MinDecisions)
	case c.Review.Calibration.WindowDays < 1 || c.Review.Calibration.WindowDays > 365:
		return fmt.Errorf("review.calibration.window_days: must be from 1 to 365, got %d", c.Review.Calibration.WindowDays)
	case c.Review.BuyerReports.Enabled && (c.Review.BuyerReports.GroupID == "" || c.Review.BuyerReports.GroupID == c.Review.GroupID || c.Review.BuyerReports.GroupID == c.Kafka.GroupID):
		return fmt.Errorf("review.buyer_reports.group_id: %q must be set and differ from review.group_id and kafka.group_id", c.Review.BuyerReports.GroupID)
	case c.Review.BuyerReports.Enabled && (c.Kafka.Topics.BuyerReports == "" || c.Review.BuyerReports.DLQ == "" || c.Review.BuyerReports.DLQ == c.Kafka.Topics.BuyerReports):
		return errors.New("review.buyer_reports.dlq and kafka.topics.buyer_reports: required when review.buyer_reports.enabled is set, and different")
	case c.Review.Networks.Enabled && (c.Review.Networks.GroupID == "" || c.Review.Networks.GroupID == c.Review.GroupID || c.Review.Networks.GroupID == c.Kafka.GroupID):
		return fmt.Errorf("review.networks.group_id: %q must be set and differ from review.group_id and kafka.group_id", c.Review.Networks.GroupID)
	case c.Review.BuyerReports.ComplaintWeight <= 0:
		return fmt.Errorf("review.buyer_reports.complaint_weight: must be positive, got %g", c.Review.BuyerReports.ComplaintWeight)
	case c.Review.Networks.Enabled && c.PhotosFromTopic() && (c.Review.Networks.PhotosGroupID == "" ||
		slices.Contains([]string{c.Review.Networks.GroupID, c.Review.GroupID, c.Kafka.GroupID}, c.Review.Networks.PhotosGroupID)):
		return fmt.Errorf("review.networks.photos_group_id: %q must be set and differ from review.networks.group_id, review.group_id and kafka.group_id", c.Review.Networks.PhotosGroupID)
	case c.Review.Networks.CommonAt < 1:
		return fmt.Errorf("review.networks.common_at: must be at least 1, got %d", c.Review.Networks.CommonAt)
	case c.Review.MinDecisions < 1:
		return fmt.Errorf("review.min_decisions: must be at least 1, got %d", c.Review.MinDecisions)
	case c.Review.Retention.DecidedComplaints < 0 || c.Review.Retention.Records < 0:
		return errors.New("review.retention.decided_complaints, review.retention.records: must not be negative (0 keeps forever)")
	case c.Review.Retention.Records > 0 && c.Review.Retention.Records < c.Review.Retention.DecidedComplaints:
		return fmt.Errorf("review.retention.records (%v): must be at least review.retention.decided_complaints (%v), or 0", c.Review.Retention.Records, c.Review.Retention.DecidedComplaints)
	case c.Review.Retention.Interval <= 0 || c.Review.Retention.Batch < 1 || c.Review.Retention.PartitionsAhead < 1:
		return errors.New("review.retention.interval, review.retention.batch, review.retention.partitions_ahead: must be positive")
	case len(c.Review.Ladder) == 0:
		return errors.New("review.ladder: at least one rung ({strikes, status}) is required")
	}
	for i, r := range c.Review.Ladder {
		switch {
		case r.Status != "warned" && r.Status != "suspended" && r.Status != "terminated":
			return fmt.Errorf("review.ladder[%d].status: want warned, suspended or terminated, got %q", i, r.Status)
		case r.Strikes < 1 || (i > 0 && r.Strikes <= c.Review.Ladder[i-1].Strikes):
			return fmt.Errorf("review.ladder[%d].strikes: must be at least 1 and climb, got %d", i, r.Strikes)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: want debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		return fmt.Errorf("log.format: want json or text, got %q", c.Log.Format)
	}
	return nil
}

func (c *Config) validateSweep() error {
	s := &c.Sweep
	switch {
	case s.Lookback < 0:
		return fmt.Errorf("sweep.lookback: must not be negative (0 reads all the listings topic retains), got %s", s.Lookback)
	case s.Rate < 0:
		return fmt.Errorf("sweep.rate: must not be negative (0 is no cap), got %g", s.Rate)
	case s.Settle <= c.Kafka.MarksDebounce:
		return fmt.Errorf("sweep.settle: must exceed kafka.marks_debounce (%s) so that a sweep starts after every detector watches the mark, got %s", c.Kafka.MarksDebounce, s.Settle)
	case s.CheckpointInterval <= 0:
		return fmt.Errorf("sweep.checkpoint_interval: must be positive, got %s", s.CheckpointInterval)
	}
	if !s.Enabled {
		return nil
	}
	switch s.GroupID {
	case "":
		return errors.New("sweep.group_id: required when sweep.enabled is set")
	case c.Kafka.GroupID, c.Review.GroupID:
		return fmt.Errorf("sweep.group_id: %q is also kafka.group_id or review.group_id; the sweepers need a group of their own", s.GroupID)
	}
	t := c.Kafka.Topics
	switch t.Sweeps {
	case "":
		return errors.New("kafka.topics.sweeps: required when sweep.enabled is set")
	case t.Listings, t.Marks, t.Complaints, t.DLQ, t.Takedowns, t.SellerActions, t.SellerNotices:
		return fmt.Errorf("kafka.topics.sweeps: %q is another kafka.topics entry; sweeps needs a compacted topic of its own", t.Sweeps)
	}
	return nil
}
