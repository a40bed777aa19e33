// Package logo finds a mark's logo inside a seller's own photo, where it
// covers a small part of a different scene (a print on a bag, a badge on a
// watch dial) that whole-image and region hashes cannot see.
//
// It works on local features, in the manner of ORB (Rublee et al., 2011):
//
//   - Keypoints: FAST-9 corners on an image pyramid (scale step 1.3), kept
//     by 3×3 non-maximum suppression and ranked by the Harris corner
//     response, a capped number per level (Options.MaxKeypoints for a
//     listing image, MaxLogoKeypoints for a logo).
//   - Orientation: the intensity centroid of a disc of radius 15 around
//     the keypoint, so descriptors can be steered to it.
//   - Descriptors: rotated BRIEF, 256 comparisons of 5×5 box means (from an
//     integral image) at point pairs drawn once from an isotropic Gaussian
//     and rotated to the keypoint's orientation in 12° steps.
//   - Matching: an index over every active mark's logos (multi-index
//     hashing: the 256 bits cut into 16 keys of 16 bits, one table per
//     key, so a descriptor within a few bits of a query shares at least one
//     key with it; buckets over 128 times the mean are skipped); each
//     listing descriptor is paired with its nearest descriptor in up to 8
//     logos, within MaxDistance bits and 1/Ratio times the nearest logo's
//     distance. A strict ratio test between logos loses most true pairs
//     when logos share a typeface or an emblem; verification sorts them.
//   - Geometric verification: per logo, RANSAC over two-match samples of a
//     similarity (scale, rotation, translation), inliers within a tolerance
//     that absorbs mild perspective, refitted by least squares. A fit is
//     kept only with MinInliers distinct inliers spread over the logo,
//     explaining MinCoverage of the logo keypoints it makes visible, a
//     scale that puts the logo at 4–80% of the image's width, a rotation
//     within ±50°, and keypoint orientations and pyramid scales that agree
//     with it. A similarity cannot mirror, so no flipped fit is accepted.
//     Of overlapping detections in one image the strongest is kept.
//
// Why written here: no pure-Go feature library exists (gocv and the like
// wrap OpenCV through cgo), and markwatch builds with CGO_ENABLED=0.
//
// Decoding is not this package's: the caller hands it a grey image decoded
// within imagematch's Limits (imagematch.Hasher.Luma), so untrusted images
// are decoded one way only. Encoded reference features are decoded by
// matchers.DecodeFeatures.
//
// Memory: a logo keeps at most 512 keypoints (MaxLogoKeypoints per
// polarity, two polarities), each 116 bytes in the index (32 of
// descriptor, 16 of keypoint, 4 of owner, 16 table entries of 4), about
// 55 KB per logo as drawn in the fixtures (~480 keypoints): 1,000 logos
// take about 54 MB and 10,000 about 540 MB, plus 16 tables of 65,537
// offsets (4 MB). Options.MaxIndexed caps the descriptors (default 8
// million, about 930 MB). A listing image keeps at most MaxKeypoints
// (default 1,200) keypoints; its working copy is at most MaxSide pixels
// on a side.
package logo
