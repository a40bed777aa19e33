// Package logo finds a mark's logo inside a seller's own photo, where it
// covers a small part of a different scene (a print on a bag, a badge on a
// watch dial) that whole-image and region hashes cannot see.
//
// It works on local features, in the manner of ORB (Rublee et al., 2011):
//
//   - Keypoints: FAST-9 corners on an image pyramid (scale step 1.3), kept
//     by 3×3 non-maximum suppression and ranked by the Harris corner
//     response, a capped number per level (Options.MaxKeypoints for a
//     listing image, MaxLogoKeypoints for a logo). A listing image's
//     pyramid starts with the image enlarged 1.3 times, so that the
//     letters of a logo 8–12% of its width get corners of their own
//     (ExtractorOptions.NoUpsample).
//   - Orientation: the intensity centroid of a disc of radius 15 around
//     the keypoint, so descriptors can be steered to it.
//   - Descriptors: rotated BRIEF, 256 comparisons of 5×5 box sums (computed
//     once per level by running sums) at point pairs drawn once from an
//     isotropic Gaussian and rotated to the keypoint's orientation in 12°
//     steps (offsets per step precomputed per level).
//   - Matching: an index over every active mark's logos (multi-index
//     hashing: the 256 bits cut into 16 keys of 16 bits, one table per
//     key, so a descriptor within a few bits of a query shares at least one
//     key with it; buckets over 128 times the mean are skipped; the
//     largest buckets read also hold their descriptors inline, read in
//     sequence rather than a cache miss an entry); each
//     listing descriptor is paired with its nearest descriptor in every
//     logo that has one within MaxDistance bits and 1/Ratio times the
//     nearest logo's distance.
//   - Two-stage matching, the default (Options.Shortlist 64, one stage
//     when no more logos are indexed than that; -1: one stage always):
//     the listing's descriptors are first looked up in 4 of
//     the 16 tables only and the logos ranked by the same pose votes,
//     each listing descriptor voting for its ShortlistNearest (16)
//     nearest logos only, not for the ~100 sharing an emblem with it
//     (the grouping and votes of those pairs were most of the stage's
//     cost, and the right logos are shortlisted as often), and with
//     Options.ShortlistMargin (6) only for those within that many bits of
//     its nearest, the look-ups passing over farther entries;
//     the Shortlist best of them are then paired with the photo the
//     other way round, each of their descriptors' 16 keys looked up in
//     a per-photo table of the photo's own keys (a bit per key of a
//     table first, since most keys looked up are none of the photo's),
//     so the second stage costs the shortlisted logos' keypoints × 16
//     look-ups whatever the number of logos indexed; only the logos
//     whose fullest first-stage pose bin reaches ShortlistMinVotes
//     (MinInliers × ShortlistTables / 16, 4 at the defaults) are
//     paired, which spares most of it in the many photos that show no
//     indexed logo. The ties that weigh
//     a pair (below) count the shortlisted logos found in the second
//     stage and the others found in the first, scaled for the tables it
//     did not read: an estimate, which undercounts the logos sharing an
//     emblem. So the inliers of a fit that can be kept (MinInliers,
//     MinPartialCoverage) are weighed again as one stage weighs them,
//     their listing descriptors looked up in the whole index, once per
//     photo each (oneStageWeights): a few dozen full look-ups where one
//     stage makes ~1,200. Cost and curve against one stage:
//     docs/BENCHMARKS.md, "Two stages by default".
//   - Pose votes: logos share emblems and typefaces, so the pairs of the
//     logo shown are drowned among those of a hundred logos sharing its
//     emblem, and of textures near to some descriptor of every logo. Each
//     pair predicts where the logo's centre is in the photo, at what
//     scale and angle (generalized Hough, as Lowe's SIFT object
//     recognition); the votes, weighted by the pair's distance, fall in
//     bins (12 angles, scales two pyramid steps wide, cells a quarter of
//     the logo's diagonal), each pair in the 8 nearest
//     (2 scales × 2×2 cells, the nearest angle). A logo's score
//     is its fullest bin, and only the MaxCandidates (8) best logos are
//     verified. A logo's fullest bin is at most its largest sum of vote
//     weights at one angle and two neighbouring scales (one addition a
//     pair): logos are voted on in decreasing bound, and those whose
//     bound is below the 8th fullest bin found are not voted on, which
//     changes nothing returned and spares most votes.
//   - Geometric verification: per candidate logo, RANSAC over two-match
//     samples of a similarity (scale, rotation, translation), inliers
//     within a tolerance that absorbs mild perspective; a sample whose
//     pose has 5 inliers or more and at least half the best's is refitted
//     by least squares on them while that gains inliers (LO-RANSAC,
//     Chum et al. 2003: a small logo's two-pair pose is a few pixels off
//     and would lose to a decoy's exact one); the best refitted again,
//     with inliers spread over the logo, a scale that puts the
//     logo at 4–80% of the image's width, a rotation within ±50°, and
//     keypoint orientations and pyramid scales that agree with it. A
//     similarity cannot mirror, so no flipped fit is accepted. The
//     tolerance (5% of the logo's projected diagonal) absorbs a
//     perspective that moves the logo's corners by up to 6% of its
//     width (TestVerifyMildPerspective), so no affine or homography
//     refit is made: on the fixtures' missed logos one gains no
//     inliers. The samples come from a seed per logo (its index), so
//     a listing's detections are reproducible. At least Iterations
//     samples (400) are drawn, then more until the best fit's share of
//     the pairs makes it 99% sure that two of its inliers were drawn
//     together, up to MaxIterations (2,000): with 400 alone, a logo
//     whose right pairs are a tenth of its pairs or fewer was found with
//     some seeds and not others (TestVerifyFewRightPairs). Fits near a
//     threshold still move with the seed: compare variants over several
//     seeds (TestLogoCurve, MARKWATCH_LOGO_CURVE_SEEDS;
//     docs/BENCHMARKS.md, "RANSAC on the missed logo_in_photo listings",
//     "RANSAC sampling on to confidence").
//   - Decision, over the fits of one image together: a fit is kept with
//     MinInliers distinct inliers explaining MinCoverage of the logo
//     keypoints it makes visible; with inliers of summed distinctiveness
//     MinDistinct or more (an inlier counts 1/n when its listing
//     descriptor is about as near to n logos: a fit on the emblem alone
//     sums to little); and when no other logo fitted over the same region
//     has more than MaxRival times its inliers (a photo of a logo that is
//     not indexed fits every indexed logo sharing its emblem and typeface
//     about equally; the logo shown, when indexed, fits clearly best). Of
//     overlapping detections the strongest is kept. Two fits are over the
//     same region when their boxes share more than half of the smaller
//     or each box holds the other's centre (logos sharing an emblem,
//     fitted on one print, are boxed by their own extents: a hair under
//     half decided the rival check by the RANSAC seed). MinCoverage is not
//     relaxed for fits of distinctive inliers: distinctiveness is
//     relative to the logos indexed, and with a few dozen marks a
//     seller's photo of a bare emblem (one a mark's logo is made of)
//     fits that logo with distinctive inliers and 15–19% coverage, as
//     partly seen logos do (docs/BENCHMARKS.md, "Partly seen logos").
//     A whole detection must also explain the logo evenly
//     (MinEvenness, 0.7: the share of its expected keypoints in cells of
//     a 5×5 grid over the logo explained at least a third as well as the
//     whole): another brand's logo built from the same badge, emblem and
//     typeface fits where they share a part, not across the name
//     (docs/BENCHMARKS.md, "How evenly a fit explains the logo").
//     And evenly confirmed in place (MinGuidedEvenness, 0.7; guided
//     matching): at the fit's pose (refined to a homography on its
//     inliers when there are 8 or more, as for dense verification: a
//     small logo in perspective placed by the similarity is off by more
//     than the tolerance at its far side; "Guided matching in
//     perspective"), each logo keypoint it says is
//     visible is looked for among the photo's keypoints within half the
//     inlier tolerance of where the pose puts it (bucketed in 16-pixel
//     cells, built once per photo), of consistent orientation and
//     scale, within 40 bits; the confirmed ones must be as even over
//     the grid. The index pairs a photo's descriptor with one per logo,
//     through the ratio test, so the inliers are a thin sample of what
//     agrees; in place every keypoint is tested, and where another
//     brand's badge has its own name the photo's keypoints are there
//     but other (docs/BENCHMARKS.md, "Guided matching").
//     And confirmed by the photo's own pixels (MinDenseShare; dense
//     verification, dense.go): the pose is refined to a homography on
//     the fit's inliers (least squares, refitted without those over
//     twice the median residual, kept only within 15% of the logo's
//     diagonal of the similarity), and at each logo keypoint's place a
//     descriptor is taken from the photo's pyramid (made again, as the
//     extraction made it, from the working plane the features keep,
//     ExtractorOptions.Pixels, only around the logo's places), each of
//     its samples read between the pixels of the nearest level where the
//     pose's local map (the similarity, or the homography's derivative
//     at the keypoint) puts the logo keypoint's own sample
//     (matchers.Pixels.DescribeMapped); the share of the logo's
//     positions within 40 bits must reach MinDenseShare (0.6). Read at
//     the nearest level's pixels and angle bin instead, as before, a
//     logo keypoint's samples were up to 14% off in scale, 6° in angle
//     and half a pixel in place, and two of the fixtures' small turned
//     logos were confirmed at 0.29 and 0.38 (now 0.83 and 0.85)
//     (docs/BENCHMARKS.md, "Dense verification at the pose's own
//     samples"). It needs no corner in the photo, and a look-alike
//     whose name differs is confirmed only where the two share a part
//     (docs/BENCHMARKS.md, "Dense verification"). That confirmation
//     must also be even (MinDenseEvenness, 0.8): the positions in parts
//     of a 4×4 grid over the logo confirmed at 0.4 or more must be that
//     share of all, which turns away look-alikes that reach the share on
//     their shared badge and emblem alone. And the pixels settle a
//     rival (RivalDenseMargin, 0.4): a fit they confirm at 0.6 or more,
//     and by 0.4 more than every other logo fitted over its region
//     (whose shares are then measured too), is not rejected by it, and
//     needs half MinDistinct (docs/BENCHMARKS.md, "Rivals settled by
//     the pixels"). Where the whole shares are too close, because the
//     two logos share a badge or an emblem that both have confirmed,
//     the pixels may settle the rival over each logo's own parts
//     (RivalApartMargin, 0.1): the keypoints the other logo, placed
//     over the same region, has nowhere near with a near descriptor at
//     a like scale; a fit whose own parts are confirmed at 0.6 or more,
//     and by 0.1 more than each rival's own parts, is settled as above
//     (docs/BENCHMARKS.md, "Rivals settled over their own parts").
//     A fit the pixels confirm at StrongDense (0.7) or more, with a
//     dense evenness of 0.9 or more, needs MinEvenness and
//     MinGuidedEvenness less 0.15: a small logo has few keypoints, and
//     the evenness of its inliers and guided matches moves by a tenth
//     with one of them, where the pixels are read at every keypoint
//     (docs/BENCHMARKS.md, "Strong pixel confirmation").
//     Such a fit, or one passing every threshold but explaining between
//     MinPartialCoverage and MinCoverage, with inliers twice as
//     distinctive (MinPartialDistinct: less of the logo seen, more
//     clearly this logo's), is kept as a partial detection
//     (Detection.Partial, evidence of kind PartialKind, scored 0.5–0.6
//     by coverage, after and never over a whole one): the scorer
//     (matchers/score) counts it only in context and not in a listing
//     that uses another mark, which is what tells a partly seen logo
//     from a print of its emblem on goods sold as another brand's.
//   - Colour planes (ExtractorOptions.Colour, Options.ColourMinDense,
//     on by default in the detector): a logo printed in a colour about
//     as bright as the product under it (teal on brown wood) has too
//     little luma contrast for corners, and shows in the chroma. A
//     listing photo's Cb and Cr planes (decoded with its luma,
//     imagematch.Hasher.HashListingImageColour) are each brought to half
//     the working copy's size, their contrast about neutral tripled, and
//     described over 4 levels, 300 keypoints each, with their pixels
//     kept (matchers.Features.Colour); each is matched as a photo of its
//     own, through the same decision, and only its whole detections
//     with ColourMinInliers (twice MinInliers) that the plane's own
//     pixels confirm at ColourMinDense (0.9) or more are kept, over no
//     region where the luma fitted any logo, kept or not: there the
//     luma, with four times the chroma's samples, has seen the print
//     and decided (Detection.Plane names the plane, LumaDense says what
//     the luma confirms at the pose). The bars are high because the
//     colour planes' keypoints pair with look-alikes sharing an emblem
//     as the luma's do, and the chroma, coded at half resolution and
//     coarser quantization, tells their names apart less well
//     (docs/BENCHMARKS.md, "Colour planes").
//
// Why written here: no pure-Go feature library exists (gocv and the like
// wrap OpenCV through cgo), and markwatch builds with CGO_ENABLED=0.
//
// Decoding is not this package's: the caller hands it a grey image (and
// colour planes) decoded within imagematch's Limits (imagematch.Hasher.Luma,
// LumaColour), so untrusted images are decoded one way only. Encoded reference features are decoded by
// matchers.DecodeFeatures.
//
// Memory: a logo keeps at most 512 keypoints (MaxLogoKeypoints per
// polarity, two polarities), each 118 bytes in the index (32 of
// descriptor, 16 of keypoint, 4 of owner, 2 of over-cap flags, 16 table
// entries of 4), about
// 55 KB per logo as drawn in the fixtures (~480 keypoints): 1,000 logos
// take about 54 MB and 10,000 about 540 MB, plus 16 tables of 65,537
// offsets (4 MB), plus the inline copies of the largest buckets: 40
// bytes per entry, at most a quarter of the descriptors per table (up to
// 160 bytes per descriptor; 137 MiB in all for 1,000 drawn logos sharing
// emblems and typefaces, where 58 MiB without). Options.MaxIndexed caps
// the descriptors (default 8 million, about 930 MB without the inline
// buckets, up to 2.2 GB with them). A listing image keeps at most MaxKeypoints
// (default 1,200) keypoints; its working copy is at most MaxSide pixels
// on a side, enlarged 1.3 times for the first level (1,040 pixels), and
// the extraction's pooled buffers (the enlarged plane, two level planes,
// the FAST scores, the box sums) take about 10 bytes per pixel of the
// largest level: about 11 MB for an 800×800 photo with the enlarged
// level, 6 MB without it. With ExtractorOptions.Pixels the features keep
// a copy of the working plane until released (1 byte a pixel, 640 KB for
// an 800×800 photo): the detector holds one for each image of the
// listings it is matching at once (its concurrency times the images per
// listing whose features it computes). A photo with a fit to check
// lays out its pyramid's planes and box sums (3 bytes per pixel of every
// level but the working plane's own: about 7.4 MB with the enlarged
// level, plus 61 KB of sampling offsets per level) and makes the part of
// each level its fits need, pooled, given back on release. With
// ExtractorOptions.Colour the features also keep each colour plane's
// working copy (a quarter of the working plane's pixels each: 160 KB for
// an 800×800 photo) and up to 2 × ColourKeypoints keypoints more; a plane
// with a fit to check lays out its own pyramid (about 1 MB, pooled).
// A query's
// working memory (per-logo stamps, counts and bounds, the pairs found, the
// vote table) is pooled, about 30 bytes per logo plus 56 bytes per pair
// (the pair, its copy grouped by logo and the logo keypoint): ~17 MB for
// the ~315,000 pairs of a photo against 1,000 drawn logos sharing emblems.
// Two-stage matching adds the photo's key tables (16 tables of twice
// the keypoints rounded up to a power of two, 8 bytes a slot, and 4
// bytes a keypoint: ~590 KB at 1,200 keypoints, plus a bit per key:
// 128 KB) and 16 bytes a keypoint.
package logo
