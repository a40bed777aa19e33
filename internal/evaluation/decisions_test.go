package evaluation

import (
	"testing"

	"github.com/markwatch/markwatch/internal/calibration"
	"github.com/markwatch/markwatch/internal/domain"
)

func TestDecisions(t *testing.T) {
	e := Evaluation{Outcomes: []Outcome{
		{ListingID: "l_1", Label: domain.Label{Infringing: true, MarkID: "m_a"}, MarkID: "m_a", Score: 0.9, Signals: map[string]float64{"text": 0.8, "image": 0, "price": 0.3}},
		{ListingID: "l_2", Label: domain.Label{}, MarkID: "m_a", Score: 0.4, Signals: map[string]float64{"text": 0.4}},
		{ListingID: "l_3", Label: domain.Label{Infringing: true, MarkID: "m_b"}, MarkID: "", Score: 0},
		{ListingID: "l_4", Label: domain.Label{}, MarkID: "m_b", Score: 0},
	}}
	got := e.Decisions()
	if len(got) != 1 || len(got["m_a"]) != 2 {
		t.Fatalf("decisions %+v, want two on m_a only (unscored listings file nothing)", got)
	}
	up, rej := got["m_a"][0], got["m_a"][1]
	if up.Outcome != calibration.Upheld || up.Score != 0.9 || len(up.Matchers) != 2 || up.Matchers[0] != "price" || up.Matchers[1] != "text" {
		t.Errorf("positive: %+v", up)
	}
	if rej.Outcome != calibration.Rejected {
		t.Errorf("negative: %+v", rej)
	}
}
