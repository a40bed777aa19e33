// Package domain holds markwatch's wire types — Listing, Mark, Complaint and
// the score output — and their strict codecs.
//
// Every message carries schema_version. Decoding is strict because listings
// come from outside: unknown fields (names are case-sensitive), duplicate
// fields, invalid UTF-8, trailing data, missing required fields and oversize
// fields are errors, and every error names the field it is about (see
// FieldError) so that a dead-lettered message or a 400 answer tells its
// sender what to fix.
package domain
