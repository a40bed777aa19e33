package review

import (
	"fmt"

	"github.com/markwatch/markwatch/internal/store"
)

// Rung is one step of the strike ladder: a seller with at least Strikes
// active strikes has at least Status.
type Rung struct {
	Strikes int
	// Status is store.SellerWarned, SellerSuspended or SellerTerminated.
	Status string
}

// Ladder is the repeat-infringer policy: rungs in climbing order of strikes
// and severity.
type Ladder []Rung

// DefaultLadder warns at 1 active strike, suspends at 3 and terminates at 5.
func DefaultLadder() Ladder {
	return Ladder{
		{Strikes: 1, Status: store.SellerWarned},
		{Strikes: 3, Status: store.SellerSuspended},
		{Strikes: 5, Status: store.SellerTerminated},
	}
}

// severity orders seller statuses; a seller's status only climbs.
func severity(status string) int {
	switch status {
	case store.SellerWarned:
		return 1
	case store.SellerSuspended:
		return 2
	case store.SellerTerminated:
		return 3
	}
	return 0 // active, or never seen
}

// Validate checks that the rungs climb in both strikes and severity.
func (l Ladder) Validate() error {
	if len(l) == 0 {
		return fmt.Errorf("ladder: no rungs")
	}
	for i, r := range l {
		if severity(r.Status) == 0 {
			return fmt.Errorf("ladder: rung %d: status %q is not warned, suspended or terminated", i, r.Status)
		}
		if r.Strikes < 1 {
			return fmt.Errorf("ladder: rung %d: %d strikes, want at least 1", i, r.Strikes)
		}
		if i > 0 && (r.Strikes <= l[i-1].Strikes || severity(r.Status) <= severity(l[i-1].Status)) {
			return fmt.Errorf("ladder: rung %d (%d strikes, %s) does not climb above rung %d", i, r.Strikes, r.Status, i-1)
		}
	}
	return nil
}

// StatusFor returns the status a seller with the given number of active
// strikes has earned: that of the highest rung reached, or active.
func (l Ladder) StatusFor(strikes int) string {
	status := store.SellerActive
	for _, r := range l {
		if strikes >= r.Strikes {
			status = r.Status
		}
	}
	return status
}
