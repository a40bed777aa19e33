package main

import (
	"net/http"
	"sync"

	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
)

// watchedMarks remembers which marks each built engine watches, so that
// the detector can answer "is mark X watched yet?" for the engine it
// scores with right now — not for the one being built. A newly verified
// mark reaches a detector a moment after the registry publishes it, and a
// listing scored before that moment is not complained about: this is how
// a person (or a script, or a test) knows when to send it.
type watchedMarks struct {
	mu       sync.Mutex
	byEngine map[*detection.Engine]map[string]watchedEntry // by mark id
}

// watchedEntry is what the detector says of a mark an engine watches.
type watchedEntry struct {
	name string
	// threshold is the mark's own complaint threshold in that engine, nil
	// for the default: an admin who applies a calibrated threshold sees
	// here when it reached the detector.
	threshold *float64
}

// built records the marks an engine was built over.
func (w *watchedMarks) built(e *detection.Engine, ms []*domain.Mark) {
	names := make(map[string]watchedEntry, len(ms))
	for _, m := range ms {
		names[m.MarkID] = watchedEntry{name: m.Name, threshold: m.Threshold}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byEngine == nil {
		w.byEngine = map[*detection.Engine]map[string]watchedEntry{}
	}
	w.byEngine[e] = names
}

// closed forgets a retired engine.
func (w *watchedMarks) closed(e *detection.Engine) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.byEngine, e)
}

// lookup says whether e watches the mark, with its name and threshold,
// and how many marks e watches.
func (w *watchedMarks) lookup(e *detection.Engine, id string) (entry watchedEntry, ok bool, marks int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	names := w.byEngine[e]
	entry, ok = names[id]
	return entry, ok, len(names)
}

// watchedMark is the body of GET /detector/marks/{id}.
type watchedMark struct {
	MarkID  string `json:"mark_id"`
	Watched bool   `json:"watched"`
	Name    string `json:"name,omitempty"`
	// Threshold is the mark's own complaint threshold the detector files
	// at; absent when the detector's default applies.
	Threshold *float64 `json:"threshold,omitempty"`
	// Marks is how many marks the current engine watches.
	Marks int `json:"marks_watched"`
}

// serveWatched answers GET /detector/marks/{id}: 200 when the engine the
// detector scores with now watches the mark, 404 when it does not (yet),
// 503 before the marks are loaded. `curl -sf` in a loop waits for a mark.
func (d *detector) serveWatched(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body := watchedMark{MarkID: id}
	code := http.StatusServiceUnavailable
	if e, release, ok := d.follower.Acquire(); ok {
		var entry watchedEntry
		entry, body.Watched, body.Marks = d.watched.lookup(e, id)
		body.Name, body.Threshold = entry.name, entry.threshold
		release()
		code = http.StatusNotFound
		if body.Watched {
			code = http.StatusOK
		}
	}
	writeProbeJSON(w, code, body)
}
