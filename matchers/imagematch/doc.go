// Package imagematch finds marks whose logos or official photos are reused
// in a listing's images, by perceptual hashing.
//
// # Hashes
//
// A hash is the pHash of a 64×64 brightness grid: goimagehash's DCT, then
// one bit per coefficient of the 8×8 lowest non-zero frequencies, set when
// it exceeds their median (see phash). Two images match when the Hamming
// distance between some hash of one and some hash of the other is at most
// Options.MaxDistance (default 10 of 64 bits).
//
// A single hash survives resizing, re-encoding, small colour shifts and
// small overlays, but not crops, padding or mirroring. Those are covered by
// hashing several regions of each image. A listing image is hashed whole,
// inside its uniform borders (padding, letterboxing, a frame), and without
// its top or bottom fifth (where a sales banner goes). A reference image is
// hashed the same ways plus centre, side and corner crops of up to a tenth
// and mirrored, 20 to 30 hashes in all. Content found inside borders is
// hashed on a canvas of its own background widened to at most 2:1, so that
// a word mark's box does not have to be found to the pixel. An image whose
// content is under 40% of its area (a logo on a plain canvas) is not
// hashed whole: such hashes say little more than "a blob there" and those
// of different logos collide. The choices and the distance were measured
// on generated images; TestHashRobustness prints the distributions.
//
// # Decoding
//
// Only JPEG, PNG, GIF and WebP are decoded, recognized by their signature
// (not through image.RegisterFormat, so that no other decoder linked into
// the binary is reachable). Limits caps the encoded size before parsing,
// and the declared pixel count and the memory the decode would take (pixels
// × bytes per pixel of the colour model and depth the header declares,
// see cost.go) before any pixel buffer is allocated. A Hasher's images
// decode under one gate bounding how many, and how many bytes, are being
// decoded at once; a caller waits for its turn until its context ends
// (ErrBusy). Share one Hasher per process.
//
// A reference image with transparency is hashed composited on white and
// on black (HashReference): a logo published for dark backgrounds is blank
// on white, and pHash, blind to brightness scale and offset, matches a
// one-colour logo on any ground lighter or darker than it through one of
// the two. Listing images are seen on white, as a page shows them.
//
// Most of the cost of hashing a photo is decoding it, and a hash needs only
// a coarse grey image. A JPEG of at least 256×256 pixels is therefore
// decoded by internal/jpegdc, a copy of image/jpeg that keeps only the DC
// coefficient of each luma block (the block's mean): no inverse DCT, no
// chroma, and the AC scans of progressive files skipped unread. The 1/8
// scale plane is resampled by area averaging, which is exact at any scale,
// so DC planes and full decodes of the same image hash alike. A JPEG whose
// content inside its borders is too small for 1/8 scale is decoded in
// full, and for the hashes, whose plane is grey, that is its luma alone
// (the luma mode below: image/jpeg's Y plane exactly, so the same plane).
//
// Logo detection needs every pixel in grey (Hasher.Luma, LumaAtLeast): a
// JPEG's comes from the same package's luma mode, which decodes all of the
// Y coefficients and transforms no chroma, at full scale (image/jpeg's Y
// plane exactly) or at 1/2 or 1/4 (means of the pixels covered), under the
// same Limits and gate; other formats are decoded in full. A listing image
// that needs both is decoded once (Hasher.HashListingImageLuma): the luma
// mode keeps each block's DC coefficient as it goes, so the hashes get the
// DC plane or the full luma they would have had from their own decode.
//
// Trimming judges thousands of lines of a full-resolution plane; each
// line's verdict takes a median (selected through level buckets) and,
// only where the tolerance's bounds leave it open, the grain's median.
//
// # Matching
//
// Matcher compares a listing's precomputed image hashes
// (matchers.ListingImage.Hashes, from Hasher.HashListingImage) with the
// candidate marks' reference hashes (matchers.ReferenceImage.Hashes, from
// Hasher.HashReference). As a presearcher it scans a flat index of every
// mark's reference hashes, which is fast enough up to about a million
// hashes (BenchmarkIndexSearch).
package imagematch
