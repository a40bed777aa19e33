package api

import (
	"reflect"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
)

// enumSets are the API's closed sets by name, each taken from the package
// that owns it. A string field tagged enum:"name" is validated against
// its set on the way in (checkEnums) and listed as an enum in the OpenAPI
// document on the way out, so the two are one list.
var enumSets = map[string][]string{
	"verdict":          review.Verdicts(),
	"reason_code":      review.ReasonCodes(),
	"complaint_status": complaintStatuses,
	"source":           domain.ComplaintSources,
	"mark_status":      {domain.MarkPending, domain.MarkActive, domain.MarkSuspended, domain.MarkRemoved},
	"standing":         {string(review.StandingGoodFaith), string(review.StandingNormal), string(review.StandingThrottled)},
	"seller_status":    {store.SellerActive, store.SellerWarned, store.SellerSuspended, store.SellerTerminated},
	"submitted":        {"submitted"},
	"image_kind":       uploadFields,
	"message_author":   {store.AuthorHolder, store.AuthorSeller},

	// Learning from decisions (learning.go).
	"bank_scope":         {bankScopeMark, bankScopeGlobal},
	"bank_kind":          {domain.BankImage, domain.BankPhrase},
	"quarantine_kind":    {domain.QuarantineMark, domain.QuarantineImage, domain.QuarantineVariant},
	"quarantine_trigger": {domain.TriggerFlood, domain.TriggerPrecision},
}

// complaintStatuses are the states of a complaint, the values of the
// status filter of GET /v1/complaints too.
var complaintStatuses = []string{store.ComplaintOpen, store.ComplaintUpheld, store.ComplaintRejected, store.ComplaintContested, store.ComplaintReinstated}

// domainEnums tag the closed sets of the domain types the API returns,
// which carry no API tags of their own: type, then JSON field name, then
// set name.
var domainEnums = map[reflect.Type]map[string]string{
	reflect.TypeFor[domain.Complaint](): {"source": "source"},
	reflect.TypeFor[domain.Mark]():      {"status": "mark_status"},
	reflect.TypeFor[domain.ImageHash](): {"kind": "image_kind"},

	reflect.TypeFor[domain.BankEntry]():  {"kind": "bank_kind"},
	reflect.TypeFor[domain.Quarantine](): {"kind": "quarantine_kind", "trigger": "quarantine_trigger"},
}

// queryEnums are the closed sets of query parameters, by parameter name.
var queryEnums = map[string]string{
	"status": "complaint_status",
	"source": "source",
}

// enumValues returns the closed set of the struct field f, or nil when it
// is free text.
func enumValues(f reflect.StructField) []string {
	return enumSets[f.Tag.Get("enum")]
}
